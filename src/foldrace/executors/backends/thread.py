"""Worker threads of this process: ``multiprocessing.pool.ThreadPool`` and
``ThreadPoolExecutor``.

Threads share this process's memory, so nothing is pickled and there is no data passing
to choose; they also share its GIL. A thread cannot be killed: an aborted thread pool drops
the tasks not yet started and waits for the running ones until the run's deadline
(:func:`join_threads`); those still running then are left behind as daemon threads that do
not hold the interpreter's exit.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from multiprocessing.pool import ThreadPool
from typing import Any

from foldrace.executors.backends.base import POLL_SECONDS, STARTUP_SECONDS, Backend, StartupGate
from foldrace.executors.inner_threads import limit_threads_here
from foldrace.executors.internals import (
    release_at_exit,
)
from foldrace.interrupts import signals_received

__all__ = ["ThreadBackend", "join_threads", "threads_left_behind"]

WAIT_NOTICE_SECONDS = 1.0
"""After this long waiting for an aborted thread pool's tasks, say so (once)."""

_LEFT_BEHIND: list[threading.Thread] = []


def start_thread(ready: Any, blas_threads: int | None, threads: list[threading.Thread]) -> None:
    """Thread initializer: limit inner threads (OpenMP's limit is per thread), report ready.

    Each worker thread adds itself to ``threads``, so an aborted pool can wait for it.
    """
    if blas_threads is not None:
        limit_threads_here(blas_threads)
    threads.append(threading.current_thread())
    ready.release()


class ThreadBackend(Backend):
    """Worker threads in this process (the GIL decides how much runs at once)."""

    kind = "thread"
    apis = frozenset({"pool", "futures", "joblib"})
    uses_threads = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.threads: list[threading.Thread] = []
        """The worker threads, as they start."""

    def _start(self) -> tuple[StartupGate, tuple[Any, ...]]:
        gate = StartupGate(self.options.workers, threading.Semaphore(0), threading.Semaphore(0))
        if self.options.blas_threads is not None:  # BLAS's limit is per process
            self._limits = limit_threads_here(self.options.blas_threads)
        return gate, (gate.ready, self.options.blas_threads, self.threads)

    def open_pool(self) -> ThreadPool:
        """A ``ThreadPool``, every worker thread started."""
        self._close = self._close_pool
        gate, initargs = self._start()
        self._live_pool = pool = ThreadPool(self.options.workers, start_thread, initargs)
        gate.wait(list, None)
        return pool

    def _close_pool(self, abort: bool, deadline: float | None) -> None:
        pool = getattr(self, "_live_pool", None)
        try:
            if pool is None:
                return
            if abort:
                pool.terminate()  # returns at once; the running tasks go on
                join_threads(self.threads, deadline)
            else:
                pool.close()
                pool.join()
        finally:
            self.lift_limits()

    def open_futures(self) -> cf.ThreadPoolExecutor:
        """A ``ThreadPoolExecutor``, every worker thread started, all of them daemons.

        It starts a worker thread per submission while none is idle, and a new thread is a
        daemon when the thread that starts it is one: so the start-up tasks are submitted
        from a daemon thread, and a task stuck past its deadline cannot hold the
        interpreter's exit.
        """
        self._close = self._close_futures
        gate, initargs = self._start()
        self._executor = executor = cf.ThreadPoolExecutor(
            self.options.workers, initializer=start_thread, initargs=initargs
        )
        held = _submit_as_daemon(
            executor, gate.started.acquire, (True, STARTUP_SECONDS), self.options.workers
        )
        gate.wait(list, None)
        cf.wait(held)
        return executor

    def _close_futures(self, abort: bool, deadline: float | None) -> None:
        executor = getattr(self, "_executor", None)
        try:
            if executor is None:
                return
            if abort:
                executor.shutdown(wait=False, cancel_futures=True)
                join_threads(self.threads, deadline)
                release_at_exit(t for t in self.threads if t.is_alive())
            else:
                executor.shutdown(wait=True)
        finally:
            self.lift_limits()

    def open_joblib(self) -> Any:
        """A ``joblib.Parallel`` on joblib's threading backend, every worker thread started.

        ``parallel_config(backend="threading")`` is how a scikit-learn user asks for it.
        Its ``ThreadPool`` starts lazily; the start-up tasks meet at a barrier, so each
        worker thread runs one and is known. On one worker joblib runs the tasks in the
        calling thread.
        """
        from joblib import Parallel, delayed

        self._close = self._close_joblib
        if self.options.blas_threads is not None:  # BLAS's limit is per process
            self._limits = limit_threads_here(self.options.blas_threads)
        workers = self.options.workers
        parallel = Parallel(n_jobs=workers, backend="threading")
        self._parallel = parallel.__enter__()
        if workers > 1:
            barrier = threading.Barrier(workers)
            limit = self.options.blas_threads
            meet = delayed(_meet)
            self.threads = list(parallel(meet(barrier, limit) for _ in range(workers)))
        self.for_runs(parallel)
        return parallel

    def _close_joblib(self, abort: bool, deadline: float | None) -> None:
        parallel = getattr(self, "_parallel", None)
        try:
            if parallel is None:
                return
            parallel.__exit__(None, None, None)  # ends the pool; running tasks go on
            if abort:
                join_threads(self.threads, deadline)
        finally:
            self.lift_limits()


def _meet(barrier: threading.Barrier, blas_threads: int | None) -> threading.Thread:
    """A start-up task: limit this worker thread's OpenMP threads (a per-thread setting),
    wait until every worker thread holds one; the thread."""
    if blas_threads is not None:
        limit_threads_here(blas_threads)
    barrier.wait(STARTUP_SECONDS)
    return threading.current_thread()


def _submit_as_daemon(
    executor: cf.Executor, fn: Callable[..., Any], args: tuple[Any, ...], n: int
) -> list[cf.Future[Any]]:
    """Submit ``fn(*args)`` ``n`` times from a daemon thread; return the futures."""
    futures: list[cf.Future[Any]] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            futures.extend(executor.submit(fn, *args) for _ in range(n))
        except BaseException as exc:  # handed to the calling thread
            errors.append(exc)

    starter = threading.Thread(target=submit, name="foldrace-start", daemon=True)
    starter.start()
    starter.join()
    if errors:
        raise errors[0]
    return futures


def join_threads(threads: Sequence[threading.Thread], deadline: float | None) -> None:
    """Wait for ``threads`` to end, until ``deadline`` (``time.monotonic()``) if given.

    Threads cannot be stopped from outside, so an aborted thread pool waits here for the
    tasks its workers are running: returning earlier would leave them running inside
    native code while the interpreter shuts down, which can abort the process. Threads
    still running at the deadline, or when a stop signal (Ctrl-C) arrives during the wait,
    are left behind, as daemon threads that do not hold the interpreter's exit;
    :func:`threads_left_behind` lists them.
    """
    signals = signals_received()
    warned = False
    started = time.monotonic()
    while any(t.is_alive() for t in threads) and signals_received() == signals:
        if deadline is not None and time.monotonic() >= deadline:
            break
        if not warned and time.monotonic() - started > WAIT_NOTICE_SECONDS:
            warned = True
            running = sum(t.is_alive() for t in threads)
            warnings.warn(
                f"waiting for {running} running thread task{'s' * (running > 1)} to finish "
                "(threads cannot be stopped); Ctrl-C leaves them behind",
                RuntimeWarning,
                stacklevel=2,
            )
        next(t for t in threads if t.is_alive()).join(POLL_SECONDS)
    _LEFT_BEHIND.extend(t for t in threads if t.is_alive() and t not in _LEFT_BEHIND)


def threads_left_behind() -> list[threading.Thread]:
    """Worker threads of aborted thread pools still running past their run's deadline."""
    _LEFT_BEHIND[:] = [t for t in _LEFT_BEHIND if t.is_alive()]
    return list(_LEFT_BEHIND)

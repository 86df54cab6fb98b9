"""The ``multiprocessing.Pool`` strategies: the blog's four, and imap_unordered.

They share one pool lifetime (:class:`PoolExecutor`), on processes (``Pool``) or threads
(``multiprocessing.pool.ThreadPool``, the same API), and differ only in how they hand
``fn(*common, item)`` to the workers::

    apply        pool.apply(fn, (*common, item))        one call at a time, blocking
    apply_async  pool.apply_async(fn, (*common, item),  all submitted at once; a callback
                     callback=..., error_callback=...)   stores each result by task index
    map          pool.map(partial(fn, *common), items)   one argument per call, in chunks
    starmap      pool.starmap(fn, [(*common, item), ...]) argument tuples, in chunks
    imap_unordered pool.imap_unordered(...)            a lazy iterator, completion order

Every wait goes through :meth:`PoolExecutor._wait`, which polls and checks, every
:data:`POLL_SECONDS`, that no worker died meanwhile (the stdlib pool silently replaces a
dead worker and would wait forever for the task it held) and that the run's timeout has
not passed. A failure ends the ``with`` block, which terminates the pool: no worker is
left behind.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from multiprocessing.pool import AsyncResult, Pool, ThreadPool
from typing import Any

from foldrace.errors import TaskTimeoutError, WorkerDiedError
from foldrace.executors.base import (
    POLL_SECONDS,
    Executor,
    join_threads,
    limit_inner_threads,
    limit_threads_here,
)
from foldrace.executors.data import SharedData, ray_handles, set_worker_data, task_call
from foldrace.executors.internals import pool_processes, terminate_pool
from foldrace.interrupts import stop_received

__all__ = [
    "ApplyAsyncExecutor",
    "ApplyExecutor",
    "ImapUnorderedExecutor",
    "MapExecutor",
    "PoolExecutor",
    "StarmapExecutor",
]


STARTUP_SECONDS = 120.0
"""How long a pool's workers may take to start (spawn and forkserver import modules)."""


def ignore_sigint() -> None:
    """Ignore Ctrl-C in a worker, so only the parent reacts and then stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_STARTED: Any = None
"""In a worker process: the semaphore its executor releases once every worker has started.

A semaphore, not an ``Event``: setting a multiprocessing ``Event`` waits for every sleeper
to wake, and a worker killed while it sleeps (a signal to the whole process group) never
does."""


def start_worker(
    ready: Any,
    started: Any,
    blas_threads: int | None,
    data: tuple[Any, ...] | None,
    forked: bool = False,
) -> None:
    """Process initializer: ignore Ctrl-C, limit inner threads, take the data, report ready.

    ``forked`` workers inherit the inner-thread limit their parent set before forking.
    """
    global _STARTED
    ignore_sigint()
    limit_inner_threads(blas_threads, inherited=forked)
    set_worker_data(data)
    _STARTED = started
    ready.release()


def start_ray_worker(blas_threads: int | None, data: tuple[Any, ...] | None) -> None:
    """Ray actor initializer: limit inner threads and take the data (Ray waits for it)."""
    limit_inner_threads(blas_threads)
    set_worker_data(data)


def hold_until_all_started() -> None:
    """A start-up task that keeps its worker busy until every worker has started.

    Executors that start workers lazily (one per submission while none is idle) get one
    worker per held task.
    """
    if _STARTED is not None:
        _STARTED.acquire(timeout=STARTUP_SECONDS)


def start_thread(
    ready: threading.Semaphore, blas_threads: int | None, threads: list[threading.Thread]
) -> None:
    """Thread initializer: limit inner threads (OpenMP's limit is per thread), report ready.

    Each worker thread adds itself to ``threads``, so an aborted pool can wait for it.
    """
    if blas_threads is not None:
        limit_threads_here(blas_threads)
    threads.append(threading.current_thread())
    ready.release()


class WorkerSetup:
    """What an executor's workers need at start-up, and its clean-up afterwards.

    Shared by the ``Pool`` and concurrent.futures executors: the initializer and its
    arguments for the pool kind and data mode, the inner-thread limit that thread pools
    and forked workers take from this process (set here, lifted at :meth:`close`), and
    the shared memory blocks to free at the end.
    """

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.shared: SharedData | None = None
        self.threads: list[threading.Thread] = []
        """Worker threads of a thread pool, as they start."""
        self._limits: Any = None
        if executor.pool_kind == "ray":
            self.context = None
            payload = _payload(executor, ray_handles)
            self.initializer = start_ray_worker
            self.initargs = (executor.blas_threads, payload)
        elif executor.uses_processes:
            self.context = multiprocessing.get_context(executor.start_method)
            self.ready: Any = self.context.Semaphore(0)
            self.started: Any = self.context.Semaphore(0)
            payload = _payload(executor, self._share)
            self.initializer: Callable[..., None] = start_worker
            forked = executor.start_method == "fork"
            self.initargs: tuple[Any, ...] = (
                self.ready,
                self.started,
                executor.blas_threads,
                payload,
                forked,
            )
            if forked and executor.blas_threads is not None:  # inherited by the workers
                self._limits = limit_threads_here(executor.blas_threads)
        else:
            self.context = None
            self.ready = threading.Semaphore(0)
            self.started = threading.Event()
            self.initializer = start_thread
            self.initargs = (self.ready, executor.blas_threads, self.threads)
            if executor.blas_threads is not None:
                self._limits = limit_threads_here(executor.blas_threads)

    def _share(self, common: tuple[Any, ...]) -> tuple[Any, ...]:
        self.shared = SharedData(common)
        return self.shared.handles

    def wait_ready(self, processes: Sequence[Any], on_failure: Callable[[], None]) -> None:
        """Wait until every worker has run its initializer; else clean up and raise.

        Checks meanwhile that none of ``processes`` died while starting, which is what
        happens under spawn and forkserver when the main module cannot be imported safely.
        """
        deadline = time.monotonic() + STARTUP_SECONDS
        try:
            self._wait_ready(processes, deadline)
        except BaseException:  # a worker that died, the deadline, or Ctrl-C
            self._release_holds()
            on_failure()
            raise
        self._release_holds()

    def _release_holds(self) -> None:
        """Let the start-up tasks that hold their workers end (never blocks)."""
        if self.context is None:
            self.started.set()
        else:
            for _ in range(self.executor.workers):
                self.started.release()

    def _wait_ready(self, processes: Sequence[Any], deadline: float) -> None:
        for _ in range(self.executor.workers):
            while not self.ready.acquire(timeout=POLL_SECONDS):
                if stop_received() is not None:  # held back while starting: stop now
                    raise KeyboardInterrupt
                dead = [p for p in processes if p.exitcode is not None]
                if dead or time.monotonic() > deadline:
                    if dead:
                        raise RuntimeError(
                            f"a worker process exited while starting (exit code "
                            f"{dead[0].exitcode}); under {self.executor.start_method}, the "
                            "main script must guard its code with "
                            "if __name__ == '__main__': (see its error above)"
                        )
                    raise RuntimeError(
                        f"the {self.executor.workers} workers did not all start within "
                        f"{STARTUP_SECONDS:g} s"
                    )

    def hold(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        """A task (function, arguments) that holds its worker until all have started."""
        if self.context is None:
            return self.started.wait, (STARTUP_SECONDS,)
        return hold_until_all_started, ()

    def close(self) -> None:
        """Free the shared memory and lift the thread limits."""
        if self.shared is not None:
            self.shared.close()
            self.shared = None
        if self._limits is not None:
            self._limits.restore_original_limits()
            self._limits = None

    def call(
        self, fn: Callable[..., Any], common: tuple[Any, ...]
    ) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        """The function and shared arguments each task carries (see :func:`task_call`)."""
        executor = self.executor
        if executor.data_passing != "task":
            executor.check_common(common)
        return task_call(fn, common, executor.data_passing)


def _payload(
    executor: Executor, share: Callable[[tuple[Any, ...]], tuple[Any, ...]]
) -> tuple[Any, ...] | None:
    """What the initializer hands each worker: nothing, the shared arguments, or handles."""
    if executor.data_passing == "task":
        return None
    if executor._common is None:
        raise RuntimeError(
            f"data_passing={executor.data_passing!r} needs the shared arguments "
            "before the pool starts: call bind(common) first"
        )
    if executor.data_passing == "shared":
        return share(executor._common)
    return executor._common


class PoolExecutor(Executor):
    """Base of the ``multiprocessing.Pool`` executors: owns the pool and waits safely.

    ``pool="process"`` runs ``multiprocessing.Pool``, ``pool="thread"``
    ``multiprocessing.pool.ThreadPool`` and ``pool="ray"``
    ``ray.util.multiprocessing.Pool`` (Ray actors on a cluster): the same API.

    Parameters
    ----------
    chunksize : int, optional
        Tasks per chunk for ``map``, ``starmap`` and ``imap_unordered``; each method's
        own default if omitted.
    **options
        ``pool``, ``start_method``, ``data_passing``, ``timeout``, ``blas_threads``: see
        :class:`~foldrace.executors.base.Executor`.
    """

    pools = ("process", "thread", "ray")

    def __init__(self, workers: int = 1, *, chunksize: int | None = None, **options: Any) -> None:
        super().__init__(workers, **options)
        self.chunksize = chunksize
        self._pool: Pool | None = None
        self._setup: WorkerSetup | None = None
        self._processes: list[Any] = []

    @property
    def pool(self) -> Pool:
        """The running pool; only inside the ``with`` block."""
        if self._pool is None:
            raise RuntimeError(f"{self!r} is not started: use it as a context manager")
        return self._pool

    def start(self) -> None:
        """Start the workers and wait until every one of them is ready.

        ``Pool()`` returns before its workers have started; under spawn and forkserver they
        still have modules to import. Waiting for them here keeps that cost in the start-up
        time rather than in the first tasks' time.
        """
        self._setup = setup = WorkerSetup(self)
        if self.pool_kind == "ray":  # Ray's pool returns once every actor answers a ping
            from ray.util.multiprocessing import Pool as RayPool

            self._pool = RayPool(self.workers, setup.initializer, setup.initargs)
            return
        try:
            if setup.context is None:
                self._pool = ThreadPool(self.workers, setup.initializer, setup.initargs)
            else:
                self._pool = setup.context.Pool(self.workers, setup.initializer, setup.initargs)
        except BaseException:
            setup.close()
            raise
        self._processes = pool_processes(self._pool)
        setup.wait_ready(self._processes, lambda: self.shutdown(abort=True))

    def shutdown(self, abort: bool = False) -> None:
        """Close and join the pool, or terminate it at once when ``abort``.

        Threads cannot be stopped from outside: an aborted thread pool drops the tasks not
        yet started and waits for the running ones until the run's deadline (see
        :func:`~foldrace.executors.base.join_threads`).
        """
        pool, self._pool = self._pool, None
        setup, self._setup = self._setup, None
        try:
            if pool is None:
                return
            if abort:
                if self.pool_kind == "process":
                    terminate_pool(pool, self._processes)
                else:
                    pool.terminate()
                if self.pool_kind in ("process", "ray"):
                    pool.join()
                elif setup is not None:
                    join_threads(setup.threads, self._deadline)
            else:
                pool.close()
                pool.join()
        finally:
            if setup is not None:
                setup.close()

    def _call(
        self, fn: Callable[..., Any], common: tuple[Any, ...]
    ) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        if self._setup is None:
            raise RuntimeError(f"{self!r} is not started: use it as a context manager")
        return self._setup.call(fn, common)

    def _wait(
        self,
        done: Callable[[float], bool],
        deadline: float | None,
        pending: Callable[[], tuple[int, ...]] = tuple,
    ) -> None:
        """Block until ``done(seconds)`` is true, watching the workers and the deadline.

        ``done(seconds)`` waits up to ``seconds`` and says whether the work is over;
        ``pending()`` names the unfinished task indices for the error message.

        Raises
        ------
        WorkerDiedError
            If a worker process exited before the work was over.
        TaskTimeoutError
            If the deadline passed first.
        """
        while not done(POLL_SECONDS):
            for process in self._processes:
                if process.exitcode is not None:
                    raise WorkerDiedError(process.pid, process.exitcode, pending())
            if deadline is not None and time.monotonic() > deadline:
                raise TaskTimeoutError(self.timeout)

    def _get(
        self,
        result: AsyncResult,
        deadline: float | None,
        pending: Callable[[], tuple[int, ...]] = tuple,
    ) -> Any:
        """Wait safely for one ``AsyncResult`` and return its value (or raise its error).

        A ``map``/``starmap`` result only becomes ready once every chunk is back, even
        after one has failed (CPython's ``MapResult`` keeps the first failure in
        ``_success`` and ``_value``); the first failure is raised as soon as it is
        recorded, and leaving the ``with`` block stops the tasks still running.
        """

        def failed() -> bool:
            return getattr(result, "_success", True) is False

        def done(seconds: float) -> bool:
            result.wait(seconds)
            return result.ready() or failed()

        self._wait(done, deadline, pending)
        if not result.ready():  # failed early
            raise result._value
        return result.get()


class ApplyExecutor(PoolExecutor):
    """A loop of ``Pool.apply``: each call blocks until its task is done."""

    name = "apply"
    schedule = "sequential"
    summary = "a loop of Pool.apply: blocks on every task, so one worker is busy at a time"

    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """Submit one task, wait for it, then the next (``apply`` is ``apply_async().get()``)."""
        pool, deadline = self.pool, self.deadline()
        fn, common = self._call(fn, common)
        return [
            self._get(pool.apply_async(fn, (*common, item)), deadline, lambda i=index: (i,))
            for index, item in enumerate(items)
        ]


class ApplyAsyncExecutor(PoolExecutor):
    """``Pool.apply_async`` for every task, with a ``callback`` and an ``error_callback``."""

    name = "apply_async"
    schedule = "list"
    summary = "Pool.apply_async with callbacks: all tasks queued at once, results by task index"

    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """Submit every task, let callbacks store results by index, then return them in order.

        The callbacks run in the pool's result thread, in completion order; each stores its
        result under the task's index, so the order of completion cannot leak out. An
        ``error_callback`` records failures, so a failing task is never silently missing:
        the first failure (in task order, among those seen) is raised as soon as it
        arrives, without waiting for the other tasks.
        """
        pool, deadline = self.pool, self.deadline()
        fn, common = self._call(fn, common)
        results: dict[int, Any] = {}
        errors: dict[int, BaseException] = {}
        arrived = threading.Event()

        def store(table: dict, index: int, value: Any) -> None:
            table[index] = value
            arrived.set()

        for index, item in enumerate(items):
            pool.apply_async(
                fn,
                (*common, item),
                callback=partial(store, results, index),
                error_callback=partial(store, errors, index),
            )

        def done(seconds: float) -> bool:
            arrived.wait(seconds)
            arrived.clear()
            return bool(errors) or len(results) == len(items)

        def pending() -> tuple[int, ...]:
            return tuple(i for i in range(len(items)) if i not in results and i not in errors)

        self._wait(done, deadline, pending)
        if errors:
            raise errors[min(errors)]
        return [results[index] for index in range(len(items))]


class MapExecutor(PoolExecutor):
    """``Pool.map`` over the tasks, the shared arguments bound with ``functools.partial``."""

    name = "map"
    schedule = "chunked"
    summary = "Pool.map over a partial: one argument per call, tasks sent in chunks"

    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """Bind the common arguments first: ``map`` passes one argument per call.

        ``Pool.map`` is ``map_async(...).get()``; waiting here goes through ``_get``.
        """
        fn, common = self._call(fn, common)
        result = self.pool.map_async(partial(fn, *common), items, self.chunksize)
        return self._get(result, self.deadline())


class StarmapExecutor(PoolExecutor):
    """``Pool.starmap`` over argument tuples ``(*common, item)``."""

    name = "starmap"
    schedule = "chunked"
    summary = "Pool.starmap over argument tuples: the blog's fastest, tasks sent in chunks"

    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """Pack each call's arguments into a tuple; the pool unpacks them into ``fn``."""
        fn, common = self._call(fn, common)
        arguments = [(*common, item) for item in items]
        return self._get(self.pool.starmap_async(fn, arguments, self.chunksize), self.deadline())


class ImapUnorderedExecutor(PoolExecutor):
    """``Pool.imap_unordered``: a lazy iterator yielding results as they complete."""

    name = "imap_unordered"
    schedule = "list"
    summary = "Pool.imap_unordered: results in completion order, sorted back by task index"

    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """Tag every task with its index, collect results as they arrive, then sort them.

        With the default chunk size of 1 a free worker takes the next task, as with
        ``apply_async``; a failure is raised as soon as its task comes back. Larger chunks
        are made here, as ``imap_unordered`` makes them itself (for a chunk size above 1,
        CPython returns a plain generator, which cannot wait with a timeout), and sent as
        one task each.
        """
        fn, common = self._call(fn, common)
        deadline = self.deadline()
        results: dict[int, Any] = {}
        pairs = list(enumerate(items))
        size = self.chunksize or 1
        chunks = [pairs[start : start + size] for start in range(0, len(pairs), size)]
        iterator = self.pool.imap_unordered(partial(_indexed, partial(fn, *common)), chunks, 1)

        def done(seconds: float) -> bool:
            try:
                chunk = iterator.next(seconds)
            except multiprocessing.TimeoutError:
                return False
            except StopIteration:
                return True
            results.update(chunk)
            return len(results) == len(items)

        if items:
            self._wait(
                done, deadline, lambda: tuple(i for i in range(len(items)) if i not in results)
            )
        return [results[index] for index in range(len(items))]


def _indexed(fn: Callable[[Any], Any], chunk: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """Call ``fn(item)`` for each ``(index, item)`` of a chunk, keeping the indices."""
    return [(index, fn(item)) for index, item in chunk]

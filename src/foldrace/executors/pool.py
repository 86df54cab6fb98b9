"""The four ``multiprocessing.Pool`` strategies of the blog: apply, apply_async, map, starmap.

They share one pool lifetime (:class:`PoolExecutor`) and differ only in how they hand
``fn(*common, item)`` to the workers::

    apply        pool.apply(fn, (*common, item))        one call at a time, blocking
    apply_async  pool.apply_async(fn, (*common, item),  all submitted at once; a callback
                     callback=..., error_callback=...)   stores each result by task index
    map          pool.map(partial(fn, *common), items)   one argument per call, in chunks
    starmap      pool.starmap(fn, [(*common, item), ...]) argument tuples, in chunks

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
from multiprocessing.pool import AsyncResult, Pool
from typing import Any

from foldrace.errors import TaskTimeoutError, WorkerDiedError
from foldrace.executors.base import Executor, check_start_method, limit_inner_threads

__all__ = [
    "ApplyAsyncExecutor",
    "ApplyExecutor",
    "MapExecutor",
    "PoolExecutor",
    "StarmapExecutor",
]

POLL_SECONDS = 0.02
"""How often a waiting executor checks that its workers are alive."""


STARTUP_SECONDS = 120.0
"""How long a pool's workers may take to start (spawn and forkserver import modules)."""


def ignore_sigint() -> None:
    """Ignore Ctrl-C in a worker, so only the parent reacts and then stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start_worker(ready: threading.Barrier, blas_threads: int | None) -> None:
    """Worker initializer: ignore Ctrl-C, limit inner threads, then report ready."""
    ignore_sigint()
    limit_inner_threads(blas_threads)
    ready.wait(STARTUP_SECONDS)


class PoolExecutor(Executor):
    """Base of the ``multiprocessing.Pool`` executors: owns the pool and waits safely.

    ``uses_processes`` is True: its workers are processes started with a start method.

    Parameters
    ----------
    workers : int
        Number of worker processes.
    start_method : str, optional
        ``"fork"``, ``"spawn"`` or ``"forkserver"``; :data:`DEFAULT_START_METHOD` if
        omitted (never the platform's implicit default).
    chunksize : int, optional
        Tasks per chunk for ``map`` and ``starmap``; multiprocessing's own rule if omitted.
    timeout : float, optional
        Seconds one run may take (see :class:`~foldrace.executors.base.Executor`).
    blas_threads : int or None
        Inner BLAS/OpenMP threads per worker (see :class:`~foldrace.executors.base.Executor`).
    """

    uses_processes = True

    def __init__(
        self,
        workers: int = 1,
        *,
        start_method: str | None = None,
        chunksize: int | None = None,
        timeout: float | None = None,
        blas_threads: int | None = 1,
    ) -> None:
        super().__init__(workers, timeout=timeout, blas_threads=blas_threads)
        self.start_method = check_start_method(start_method)
        self.context = multiprocessing.get_context(self.start_method)
        self.chunksize = chunksize
        self._pool: Pool | None = None
        self._processes: list[Any] = []

    @property
    def pool(self) -> Pool:
        """The running pool; only inside the ``with`` block."""
        if self._pool is None:
            raise RuntimeError(f"{self!r} is not started: use it as a context manager")
        return self._pool

    def start(self) -> None:
        """Start the worker processes and wait until every one of them is ready.

        ``Pool()`` returns before its workers have started; under spawn and forkserver they
        still have modules to import. Waiting for them here keeps that cost in the start-up
        time rather than in the first tasks' time.
        """
        ready = self.context.Barrier(self.workers + 1)
        self._pool = self.context.Pool(self.workers, _start_worker, (ready, self.blas_threads))
        self._processes = list(self._pool._pool)  # the original workers, to detect deaths
        try:
            ready.wait(STARTUP_SECONDS)
        except threading.BrokenBarrierError:
            self.shutdown(abort=True)
            raise RuntimeError(
                f"the pool's {self.workers} workers did not all start within {STARTUP_SECONDS:g} s"
            ) from None

    def shutdown(self, abort: bool = False) -> None:
        """Close and join the pool, or terminate it at once when ``abort``."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if abort:
            pool.terminate()
        else:
            pool.close()
        pool.join()

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
        result = self.pool.map_async(partial(fn, *common), items, self.chunksize)
        return self._get(result, self.deadline())


class StarmapExecutor(PoolExecutor):
    """``Pool.starmap`` over argument tuples ``(*common, item)``."""

    name = "starmap"
    schedule = "chunked"
    summary = "Pool.starmap over argument tuples: the blog's fastest, tasks sent in chunks"

    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """Pack each call's arguments into a tuple; the pool unpacks them into ``fn``."""
        arguments = [(*common, item) for item in items]
        return self._get(self.pool.starmap_async(fn, arguments, self.chunksize), self.deadline())

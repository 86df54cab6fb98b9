"""The four ``multiprocessing.Pool`` strategies of the blog: apply, apply_async, map, starmap.

They share one pool lifetime (:class:`PoolExecutor`) and differ only in how they hand
``fn(*common, item)`` to the workers::

    apply        pool.apply(fn, (*common, item))        one call at a time, blocking
    apply_async  pool.apply_async(fn, (*common, item),  all submitted at once; a callback
                     callback=..., error_callback=...)   stores each result by task index
    map          pool.map(partial(fn, *common), items)   one argument per call, in chunks
    starmap      pool.starmap(fn, [(*common, item), ...]) argument tuples, in chunks

Every wait goes through :meth:`PoolExecutor._get`, which polls the result and checks that
no worker died meanwhile: the stdlib pool silently replaces a dead worker and would wait
forever for the task it was running.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from functools import partial
from multiprocessing.pool import AsyncResult, Pool
from typing import Any

from foldrace.errors import WorkerDiedError
from foldrace.executors.base import Executor

__all__ = [
    "ApplyAsyncExecutor",
    "ApplyExecutor",
    "MapExecutor",
    "PoolExecutor",
    "StarmapExecutor",
]

POLL_SECONDS = 0.02
"""How often a waiting executor checks that its workers are alive."""


class PoolExecutor(Executor):
    """Base of the ``multiprocessing.Pool`` executors: owns the pool and waits safely.

    Parameters
    ----------
    workers : int
        Number of worker processes.
    start_method : str, optional
        ``"fork"``, ``"spawn"`` or ``"forkserver"``; the platform default if omitted.
    chunksize : int, optional
        Tasks per chunk for ``map`` and ``starmap``; multiprocessing's own rule if omitted.
    """

    def __init__(
        self, workers: int = 1, *, start_method: str | None = None, chunksize: int | None = None
    ) -> None:
        super().__init__(workers)
        self.context = multiprocessing.get_context(start_method)
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
        """Start the pool's worker processes."""
        self._pool = self.context.Pool(self.workers)
        self._processes = list(self._pool._pool)  # the original workers, to detect deaths

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

    def _get(self, result: AsyncResult) -> Any:
        """Wait for ``result`` and return its value, raising if a worker died first."""
        while not result.ready():
            result.wait(POLL_SECONDS)
            if result.ready():
                break
            for process in self._processes:
                if process.exitcode is not None:
                    raise WorkerDiedError(process.pid, process.exitcode)
        return result.get()


class ApplyExecutor(PoolExecutor):
    """A loop of ``Pool.apply``: each call blocks until its task is done."""

    name = "apply"
    schedule = "sequential"
    summary = "a loop of Pool.apply: blocks on every task, so one worker is busy at a time"

    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """Submit one task, wait for it, then the next (``apply`` is ``apply_async().get()``)."""
        pool = self.pool
        return [self._get(pool.apply_async(fn, (*common, item))) for item in items]


class ApplyAsyncExecutor(PoolExecutor):
    """``Pool.apply_async`` for every task, with a ``callback`` and an ``error_callback``."""

    name = "apply_async"
    schedule = "list"
    summary = "Pool.apply_async with callbacks: all tasks queued at once, results by task index"

    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """Submit every task, let callbacks store results by index, then return them in order.

        The callbacks run in the pool's result thread, in completion order; each stores its
        result under the task's index, so the order of completion cannot leak out. An
        ``error_callback`` records failures, so a failing task is never silently missing.
        """
        pool = self.pool
        results: dict[int, Any] = {}
        errors: dict[int, BaseException] = {}
        pending = [
            pool.apply_async(
                fn,
                (*common, item),
                callback=partial(results.__setitem__, index),
                error_callback=partial(errors.__setitem__, index),
            )
            for index, item in enumerate(items)
        ]
        for result in pending:
            try:
                self._get(result)
            except WorkerDiedError:
                raise
            except Exception:  # recorded by error_callback; raised below in task order
                pass
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
        return self._get(self.pool.map_async(partial(fn, *common), items, self.chunksize))


class StarmapExecutor(PoolExecutor):
    """``Pool.starmap`` over argument tuples ``(*common, item)``."""

    name = "starmap"
    schedule = "chunked"
    summary = "Pool.starmap over argument tuples: the blog's fastest, tasks sent in chunks"

    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """Pack each call's arguments into a tuple; the pool unpacks them into ``fn``."""
        arguments = [(*common, item) for item in items]
        return self._get(self.pool.starmap_async(fn, arguments, self.chunksize))

"""concurrent.futures: ``submit`` + ``as_completed``, and ``Executor.map``.

The same two strategies on ``ProcessPoolExecutor`` and ``ThreadPoolExecutor``::

    submit       futures = [ex.submit(fn, *common, item) ...]   results as they complete
                 for f in as_completed(futures): ...
    futures_map  ex.map(partial(fn, *common), items)             results in order

Unlike ``multiprocessing.Pool``, ``ProcessPoolExecutor`` notices a worker that died and
fails every pending future with ``BrokenProcessPool``; foldrace turns that into a
:class:`~foldrace.errors.WorkerDiedError` naming the dead process.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import itertools
import os
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from foldrace.errors import TaskTimeoutError, WorkerDiedError
from foldrace.executors.base import Executor
from foldrace.executors.pool import WorkerSetup

__all__ = ["FuturesExecutor", "FuturesMapExecutor", "SubmitExecutor"]


class FuturesExecutor(Executor):
    """Base of the concurrent.futures executors: owns a process or thread pool executor.

    ``pool="process"`` runs ``ProcessPoolExecutor``, ``pool="thread"``
    ``ThreadPoolExecutor`` and ``pool="dask"`` a Dask cluster through
    ``client.get_executor(pure=False)``. Parameters are those of
    :class:`~foldrace.executors.pool.PoolExecutor`.
    """

    family = "concurrent.futures"
    pools = ("process", "thread", "dask")

    def __init__(self, workers: int = 1, *, chunksize: int | None = None, **options: Any) -> None:
        super().__init__(workers, **options)
        self.chunksize = chunksize
        self._executor: cf.Executor | None = None
        self._setup: WorkerSetup | None = None
        self._dask: Any = None
        self._processes: list[Any] = []

    def _call(
        self, fn: Callable[..., Any], common: tuple[Any, ...]
    ) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        if self._dask is not None:
            return fn, self._dask.call_args(common)
        return self._setup.call(fn, common)

    def start(self) -> None:
        """Start the executor and one worker per slot, and wait until all are ready.

        Both executors start workers lazily, one per ``submit`` while none is idle:
        submitting one task per worker that holds it until all have started starts them
        all; their initializer reports each one ready.
        """
        if self.pool_kind == "dask":  # the cluster's workers are already running
            from foldrace.executors.dask_client import DaskConnection

            self._dask = DaskConnection(self)
            self._executor = self._dask.client.get_executor(**self._dask.options())
            return
        self._setup = setup = WorkerSetup(self)
        try:
            if setup.context is None:
                self._executor = cf.ThreadPoolExecutor(
                    self.workers, initializer=setup.initializer, initargs=setup.initargs
                )
            else:
                self._executor = cf.ProcessPoolExecutor(
                    self.workers,
                    mp_context=setup.context,
                    initializer=setup.initializer,
                    initargs=setup.initargs,
                )
            hold, args = setup.hold()
            warm = [self._executor.submit(hold, *args) for _ in range(self.workers)]
        except BaseException:
            self.shutdown(abort=True)
            raise
        if setup.context is not None:
            self._processes = list(self._executor._processes.values())
        setup.wait_ready(self._processes, lambda: self.shutdown(abort=True))
        cf.wait(warm)

    def shutdown(self, abort: bool = False) -> None:
        """Shut the executor down; when ``abort``, cancel what is queued and kill the workers.

        Threads cannot be killed: an aborted thread executor returns at once and the tasks
        already running finish in the background.
        """
        executor, self._executor = self._executor, None
        setup, self._setup = self._setup, None
        dask, self._dask = self._dask, None
        if dask is not None:
            try:
                if executor is not None:
                    executor.shutdown(wait=not abort)
            finally:
                dask.close(abort)
            return
        try:
            if executor is None:
                return
            if abort:
                # Kill first: the executor's manager thread then sees a broken pool, reaps
                # every worker and fails what is queued; joining it leaves nothing behind.
                # (Reaping here as well would race with that thread.)
                current = (getattr(executor, "_processes", None) or {}).values()
                for process in dict.fromkeys([*self._processes, *current]):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(process.pid, signal.SIGKILL)
                executor.shutdown(wait=self.uses_processes, cancel_futures=True)
            else:
                executor.shutdown(wait=True)
        finally:
            if setup is not None:
                setup.close()

    @property
    def executor(self) -> cf.Executor:
        """The running concurrent.futures executor; only inside the ``with`` block."""
        if self._executor is None or (self._setup is None and self._dask is None):
            raise RuntimeError(f"{self!r} is not started: use it as a context manager")
        return self._executor

    def _remaining(self, deadline: float | None) -> float | None:
        return None if deadline is None else max(0.0, deadline - time.monotonic())

    def _died(self, pending: Iterable[int]) -> WorkerDiedError:
        """The error for a broken process pool, naming the first worker found dead."""
        for process in self._processes:
            process.join(1.0)
        # the pool terminates the survivors (SIGTERM) once one has died: name the first
        dead = [p for p in self._processes if p.exitcode not in (None, 0)]
        dead.sort(key=lambda p: p.exitcode == -signal.SIGTERM)
        pid, exitcode = (dead[0].pid, dead[0].exitcode) if dead else (None, -1)
        return WorkerDiedError(pid, exitcode, tuple(sorted(pending)))


class SubmitExecutor(FuturesExecutor):
    """``Executor.submit`` for every task, results collected with ``as_completed``."""

    name = "submit"
    schedule = "list"
    summary = "concurrent.futures submit + as_completed: futures by task index, fail fast"

    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """Submit everything, then take each future as it completes.

        A future's exception is raised as soon as that future completes, whatever the
        order; a broken process pool names the worker that died.
        """
        executor, deadline = self.executor, self.deadline()
        fn, common = self._call(fn, common)
        futures = {executor.submit(fn, *common, item): i for i, item in enumerate(items)}
        results: dict[int, Any] = {}
        try:
            for future in cf.as_completed(futures, timeout=self._remaining(deadline)):
                results[futures[future]] = future.result()
        except cf.TimeoutError:
            raise TaskTimeoutError(self.timeout) from None
        except BrokenProcessPool as exc:
            raise self._died(set(range(len(items))) - set(results)) from exc
        return [results[index] for index in range(len(items))]


def constant_columns(common: tuple[Any, ...], n: int) -> list[list[Any]]:
    """Each shared argument repeated ``n`` times, as ``map``'s extra iterables.

    Unlike a ``functools.partial``, plain arguments are what a cluster looks into: Dask
    resolves the futures of scattered data it finds there.
    """
    return [list(itertools.repeat(value, n)) for value in common]


class FuturesMapExecutor(FuturesExecutor):
    """``Executor.map`` over the tasks, each shared argument a constant iterable beside them."""

    name = "futures_map"
    schedule = "list"
    summary = "concurrent.futures Executor.map: results yielded in task order"

    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """Map over the items; results (and the first error) come back in task order.

        ``map`` submits every task at once (in chunks of ``chunksize`` on processes) and
        yields results in order, so an error in a later task surfaces only after the earlier
        ones are done.
        """
        executor, deadline = self.executor, self.deadline()
        fn, common = self._call(fn, common)
        options = {"chunksize": self.chunksize} if self.chunksize and self.uses_processes else {}
        results: list[Any] = []
        try:
            columns = constant_columns(common, len(items))
            iterator = executor.map(
                fn, *columns, items, timeout=self._remaining(deadline), **options
            )
            results.extend(iterator)
        except cf.TimeoutError:
            raise TaskTimeoutError(self.timeout) from None
        except BrokenProcessPool as exc:
            raise self._died(range(len(results), len(items))) from exc
        return results

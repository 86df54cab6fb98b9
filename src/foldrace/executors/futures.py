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
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from foldrace.errors import TaskTimeoutError, WorkerDiedError
from foldrace.executors.base import Executor, join_threads, threads_left_behind
from foldrace.executors.internals import release_at_exit
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
            if setup.context is None:  # threads: started as daemons
                warm = _submit_as_daemon(self._executor, hold, args, self.workers)
            else:  # processes: forked from this thread, whose OpenMP limit they inherit
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

        Threads cannot be killed: an aborted thread executor drops the queued tasks and
        waits for the running ones until the run's deadline (see
        :func:`~foldrace.executors.base.join_threads`); those still running then are left
        behind without holding the interpreter's exit.
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
                if setup is not None and not self.uses_processes:
                    join_threads(setup.threads, self._deadline)
                    release_at_exit(t for t in setup.threads if t in threads_left_behind())
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


def _submit_as_daemon(
    executor: cf.Executor, fn: Callable[..., Any], args: tuple[Any, ...], n: int
) -> list[cf.Future]:
    """Submit ``fn(*args)`` ``n`` times from a daemon thread; return the futures.

    ``ThreadPoolExecutor`` starts a worker thread per submission while none is idle, and a
    new thread is a daemon when the thread that starts it is one: so all the workers are
    daemons, and a task stuck past its deadline cannot hold the interpreter's exit.
    (Not for process pools: a process forked from another thread would not inherit this
    thread's OpenMP thread limit.)
    """
    futures: list[cf.Future] = []
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


@contextlib.contextmanager
def _recording(target: Any, method: str) -> Iterator[list[Any]]:
    """Collect the futures that ``target.<method>`` returns while the block runs.

    The standard ``Executor.map`` submits every task (or chunk) through ``submit`` at once
    and yields results in order; Dask's goes through its client's ``map``. Watching the
    futures they create lets a failure surface as soon as it happens, not after every
    earlier task.
    """
    futures: list[Any] = []
    original = getattr(target, method)

    def recorded(*args: Any, **kwargs: Any) -> Any:
        made = original(*args, **kwargs)
        futures.extend(made if isinstance(made, list) else [made])
        return made

    setattr(target, method, recorded)
    try:
        yield futures
    finally:
        delattr(target, method)


def _raise_first_failure(futures: list[Any], timeout: float | None) -> None:
    """Wait until every future is done or one has failed; raise the first failure.

    Futures are ``concurrent.futures`` ones, or Dask's; on a timeout, simply return (the
    caller's own wait then times out).
    """
    if futures and not isinstance(futures[0], cf.Future):  # Dask futures
        from distributed import TimeoutError as DaskTimeout
        from distributed import as_completed

        with contextlib.suppress(TimeoutError, DaskTimeout):
            for future in as_completed(futures, timeout=timeout):
                if future.status == "error":
                    future.result()  # raises the task's error
        return
    done, _ = cf.wait(futures, timeout=timeout, return_when=cf.FIRST_EXCEPTION)
    for future in futures:  # the first failure in task order among those done
        if future in done and future.exception() is not None:
            raise future.exception()


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
        yields results in order, so on its own an error in a later task would surface only
        after the earlier ones are done: the futures it submits are watched, and the first
        to fail is raised at once.
        """
        executor, deadline = self.executor, self.deadline()
        fn, common = self._call(fn, common)
        options = {"chunksize": self.chunksize} if self.chunksize and self.uses_processes else {}
        results: list[Any] = []
        try:
            columns = constant_columns(common, len(items))
            target, method = (self._dask.client, "map") if self._dask else (executor, "submit")
            with _recording(target, method) as futures:
                iterator = executor.map(
                    fn, *columns, items, timeout=self._remaining(deadline), **options
                )
            _raise_first_failure(futures, self._remaining(deadline))
            results.extend(iterator)
        except cf.TimeoutError:
            raise TaskTimeoutError(self.timeout) from None
        except BrokenProcessPool as exc:
            raise self._died(range(len(results), len(items))) from exc
        return results

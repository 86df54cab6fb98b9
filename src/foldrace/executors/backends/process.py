"""Worker processes on this machine: ``multiprocessing.Pool``, ``ProcessPoolExecutor``,
and joblib's loky workers.

Each worker runs :func:`start_worker` first: it ignores Ctrl-C (the parent stops the
pool), limits its inner BLAS/OpenMP threads, takes the shared arguments (``worker`` and
``shared`` data passing) and reports ready. Under fork, the limit is set in the parent
before forking and inherited. Under forkserver, the fork server imports foldrace's fold
function, scikit-learn and the modules of the estimators once (:func:`preload_modules`),
so that each worker it forks starts with them imported, and limits its own BLAS/OpenMP
threads before forking any (:func:`start_fork_server`); the server lives as long as this
process, so a later pool with no limit gives its workers this process's settings back.
A worker that dies is reported at once (:meth:`ProcessBackend.check_alive`): the stdlib
``Pool`` would silently replace it and wait forever for its task. Stopping on a failure
kills every worker: none is left behind.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from foldrace.errors import TaskTimeoutError, WorkerDiedError
from foldrace.executors.backends.base import STARTUP_SECONDS, Backend, StartupGate
from foldrace.executors.data import SharedData, set_worker_data
from foldrace.executors.inner_threads import (
    ThreadSettings,
    limit_inner_threads,
    limit_threads_here,
    restore_thread_settings,
    thread_settings,
)
from foldrace.executors.internals import (
    ReusableLokyAside,
    executor_processes,
    fork_server_running,
    kill_executor_workers,
    pool_processes,
    terminate_pool,
)
from foldrace.executors.options import DATA_MODES, DEFAULT_START_METHOD, RunOptions
from foldrace.executors.server_limits import SERVER_THREADS

__all__ = [
    "FORKSERVER_PRELOAD",
    "ProcessBackend",
    "ReusableWorkers",
    "preload_modules",
    "start_worker",
]

FORKSERVER_PRELOAD = ("__main__", "foldrace.fold", "sklearn.base", "sklearn.metrics")
"""What every fork server imports before it forks a worker (``__main__`` as
multiprocessing does by default; the rest, so that no worker imports them again)."""

_STARTED: Any = None
"""In a worker process: the semaphore its backend releases once every worker has started.

A semaphore, not an ``Event``: setting a multiprocessing ``Event`` waits for every sleeper
to wake, and a worker killed while it sleeps (a signal to the whole process group) never
does."""


def preload_modules(common: tuple[Any, ...]) -> list[str]:
    """The modules a fork server imports once: :data:`FORKSERVER_PRELOAD`, then the module of
    every estimator, scorer and other object among the shared arguments (in dicts and
    tuples too), but not ``builtins`` and not a notebook's or script's ``__main__``.

    Without them, every worker a fork server starts imports scikit-learn on its first
    task: about a second each, for every pool (multiprocessing preloads only ``__main__``,
    and before Python 3.14 not even that).
    """
    found = dict.fromkeys(FORKSERVER_PRELOAD)
    pending: list[Any] = [common]
    while pending:
        value = pending.pop()
        if isinstance(value, Mapping):
            pending += list(value.values())
        elif isinstance(value, tuple):
            pending += list(value)
        else:
            owner = value if callable(value) and not isinstance(value, type) else type(value)
            module = getattr(owner, "__module__", None)
            if isinstance(module, str) and module not in ("builtins", "__main__"):
                found.setdefault(module)
    return list(found)


_FORK_SERVER: dict[str, int | None] = {}
"""The BLAS/OpenMP limit foldrace started this process's fork server with, once it has."""


def start_fork_server(modules: list[str], threads: int | None) -> bool:
    """Start multiprocessing's fork server, once per process, with ``modules`` preloaded.

    With a limit, the server also limits its BLAS/OpenMP threads to ``threads`` before
    it forks any worker (:mod:`foldrace.executors.server_limits`). Returns whether the
    running server's limit is ``threads``, so that its workers inherit it; ``False`` for a
    server that other code started, whose limit is unknown.
    """
    from multiprocessing import forkserver

    if not _FORK_SERVER and not fork_server_running():
        multiprocessing.set_forkserver_preload([*modules, "foldrace.executors.server_limits"])
        before = os.environ.get(SERVER_THREADS)
        os.environ[SERVER_THREADS] = "" if threads is None else str(threads)
        try:
            forkserver.ensure_running()
        finally:
            if before is None:
                del os.environ[SERVER_THREADS]
            else:
                os.environ[SERVER_THREADS] = before
        _FORK_SERVER["threads"] = threads
    return bool(_FORK_SERVER) and _FORK_SERVER["threads"] == threads


def start_worker(
    ready: Any,
    started: Any,
    blas_threads: int | None,
    data: tuple[Any, ...] | None,
    forked: bool,
    unlimited: ThreadSettings | None = None,
) -> None:
    """Process initializer: ignore Ctrl-C, limit inner threads, take the data, report ready.

    ``forked`` workers inherit the inner-thread limit their parent (or the fork server
    foldrace started) set before forking them. Given ``unlimited`` (the parent's settings),
    a worker with no limit takes them: its fork server may have limited its threads for an
    earlier pool.
    """
    global _STARTED
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if blas_threads is None and unlimited is not None:
        restore_thread_settings(unlimited)
    limit_inner_threads(blas_threads, inherited=forked)
    set_worker_data(data)
    _STARTED = started
    ready.release()


def hold_until_all_started() -> None:
    """A start-up task that keeps its worker busy until every worker has started.

    ``ProcessPoolExecutor`` starts workers lazily (one per submission while none is idle);
    one held task per worker starts them all.
    """
    if _STARTED is not None:
        _STARTED.acquire(timeout=STARTUP_SECONDS)


DEATH_SECONDS = 5.0
"""How long a broken executor's workers are given to end before the dead one is named."""


class ProcessBackend(Backend):
    """Worker processes started with a start method (``fork``, ``spawn``, ``forkserver``)."""

    kind = "process"
    apis = frozenset({"pool", "futures", "joblib", "sklearn"})
    start_methods = (
        DEFAULT_START_METHOD,
        *(m for m in multiprocessing.get_all_start_methods() if m != DEFAULT_START_METHOD),
    )
    data_modes = DATA_MODES
    uses_processes = True
    watches_workers = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.processes: list[Any] = []
        self._shared: SharedData | None = None

    # -- multiprocessing.Pool and ProcessPoolExecutor -------------------------------------

    def _initializer(self) -> tuple[Callable[..., None], tuple[Any, ...], StartupGate, Any]:
        """The initializer, its arguments and the start-up gate, for the stdlib pools."""
        context = multiprocessing.get_context(self.spec.start_method)
        gate = StartupGate(self.options.workers, context.Semaphore(0), context.Semaphore(0))
        data: tuple[Any, ...] | None = None
        if self.spec.data_passing == "worker":
            data = self.common
        elif self.spec.data_passing == "shared":
            self._shared = SharedData(self.common)
            data = self._shared.handles
        forked = self.spec.start_method == "fork"
        threads = self.options.blas_threads
        inherited = forked
        unlimited = None
        if self.spec.start_method == "forkserver":
            inherited = start_fork_server(preload_modules(self.common), threads)
            if threads is None and not inherited:  # the server has a limit: lift it
                unlimited = thread_settings()
        if forked and threads is not None:  # inherited by the workers
            self._limits = limit_threads_here(threads)
        initargs = (gate.ready, gate.started, threads, data, inherited, unlimited)
        return start_worker, initargs, gate, context

    def open_pool(self) -> multiprocessing.pool.Pool:
        """A ``multiprocessing.Pool``, every worker started."""
        self._close = self._close_pool
        initializer, initargs, gate, context = self._initializer()
        pool: multiprocessing.pool.Pool = context.Pool(self.options.workers, initializer, initargs)
        self._live_pool = pool
        self.processes = pool_processes(pool)
        gate.wait(lambda: self.processes, self.spec.start_method)
        return pool

    def _close_pool(self, abort: bool, deadline: float | None) -> None:
        pool = getattr(self, "_live_pool", None)
        try:
            if pool is None:
                return
            if abort:
                terminate_pool(pool, self.processes)
            else:
                pool.close()
            pool.join()
        finally:
            self._free()

    def open_futures(self) -> cf.ProcessPoolExecutor:
        """A ``ProcessPoolExecutor``, every worker started."""
        self._close = self._close_futures
        initializer, initargs, gate, context = self._initializer()
        executor = cf.ProcessPoolExecutor(
            self.options.workers, mp_context=context, initializer=initializer, initargs=initargs
        )
        self._executor = executor
        # forked from this thread, whose OpenMP limit they inherit
        held = [executor.submit(hold_until_all_started) for _ in range(self.options.workers)]
        self.processes = executor_processes(executor)
        gate.wait(lambda: self.processes, self.spec.start_method)
        cf.wait(held)
        return executor

    def _close_futures(self, abort: bool, deadline: float | None) -> None:
        executor = getattr(self, "_executor", None)
        try:
            if executor is None:
                return
            if abort:
                # Kill first: the executor's manager thread then sees a broken pool, reaps
                # every worker and fails what is queued; joining it leaves nothing behind.
                kill_executor_workers(executor, self.processes)
                executor.shutdown(wait=True, cancel_futures=True)
            else:
                executor.shutdown(wait=True)
        finally:
            self._free()

    def _free(self) -> None:
        """Free the shared memory and lift the parent's thread limit."""
        if self._shared is not None:
            self._shared.close()
            self._shared = None
        self.lift_limits()

    def task_call(self, fn: Callable[..., Any]) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        """What each task carries; with joblib, ``fn`` and the shared arguments always:
        joblib replaces large arrays by memory-mapped references itself (``shared``)."""
        if self.api == "joblib":
            return fn, self.common
        return super().task_call(fn)

    def check_alive(self, pending: Callable[[], tuple[int, ...]] = tuple) -> None:
        """Raise :class:`WorkerDiedError` for the first worker process found dead."""
        for process in self.processes:
            if process.exitcode is not None:
                raise WorkerDiedError(process.pid, process.exitcode, pending())

    def died(self, pending: tuple[int, ...]) -> WorkerDiedError:
        """The error for a broken ``ProcessPoolExecutor``, naming the worker that died.

        The executor terminates the survivors (SIGTERM) once one has died: the first found
        dead of another cause is named. The executor's own thread may reap a worker between
        this one's wait and its read of the exit code (which then reads None for a moment),
        so the exit codes are read again until all are known or a few seconds have passed.
        """
        deadline = time.monotonic() + DEATH_SECONDS
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
        while any(p.exitcode is None for p in self.processes) and time.monotonic() < deadline:
            time.sleep(0.01)
        dead = [p for p in self.processes if p.exitcode not in (None, 0)]
        dead.sort(key=lambda p: p.exitcode == -signal.SIGTERM)
        if not dead:
            return WorkerDiedError(None, -1, pending)
        return WorkerDiedError(dead[0].pid, dead[0].exitcode, pending)

    # -- joblib on loky ---------------------------------------------------------------------

    def open_joblib(self) -> Any:
        """A ``joblib.Parallel`` on loky workers of its own, every worker started.

        loky keeps one reusable set of workers per process, which scikit-learn's
        ``n_jobs`` uses too; these workers are a set of their own, so a user's warm workers
        survive the race. Memory-mapped copies of the data go into a temporary folder
        owned here and removed at the end. ``shared`` data passing memory-maps every array
        (``max_nbytes=0``), ``task`` pickles them with every batch (``max_nbytes=None``).
        """
        from joblib import Parallel, delayed
        from joblib.parallel import LokyBackend

        self._aside = ReusableLokyAside()
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else None  # memory, as joblib prefers
        self._folder = tempfile.mkdtemp(prefix=f"foldrace-joblib-{os.getpid()}-", dir=shm)
        self._close = self._close_joblib
        parallel = Parallel(
            n_jobs=self.options.workers,
            backend=LokyBackend(inner_max_num_threads=self.options.blas_threads),
            max_nbytes=None if self.spec.data_passing == "task" else 0,
            mmap_mode="r",
            temp_folder=self._folder,
        )
        self._parallel = parallel.__enter__()
        parallel(delayed(_noop)() for _ in range(self.options.workers))
        self.for_runs(parallel)
        return parallel

    def _close_joblib(self, abort: bool, deadline: float | None) -> None:
        parallel = getattr(self, "_parallel", None)
        try:
            if parallel is not None:
                parallel.__exit__(None, None, None)
            self._aside.restore(kill_workers=abort)
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)

    # -- scikit-learn's own n_jobs, on joblib's reusable workers -----------------------------

    def open_sklearn(self) -> ReusableWorkers:
        """joblib's reusable loky workers, the ones ``n_jobs`` uses, started and warm.

        A user's own reusable workers are set aside and put back afterwards; these are
        started here (cold: the start-up phase) and have imported the tasks' modules, so
        the run is timed as scikit-learn's ``n_jobs`` runs with warm workers.
        """
        self._aside = ReusableLokyAside()
        self._close = self._close_sklearn
        workers = ReusableWorkers(self.options, self._aside)
        with workers.config():
            workers.warm_up(self.common)
        return workers

    def _close_sklearn(self, abort: bool, deadline: float | None) -> None:
        self._aside.restore(kill_workers=abort)


class ReusableWorkers:
    """joblib's reusable loky workers for one executor: configured, timed out, watched.

    Parameters
    ----------
    options : RunOptions
        Workers, the inner thread limit (loky's ``inner_max_num_threads``), the timeout.
    aside : ReusableLokyAside
        Holds a user's own reusable workers aside; its current executor is ours.
    """

    def __init__(self, options: RunOptions, aside: ReusableLokyAside) -> None:
        self.options = options
        self._aside = aside

    def config(self) -> Any:
        """``joblib.parallel_config`` for loky with the inner thread limit, if any."""
        from joblib import parallel_config

        limit = self.options.blas_threads
        extra = {} if limit is None else {"inner_max_num_threads": limit}
        return parallel_config(backend="loky", **extra)

    def warm_up(self, common: tuple[Any, ...]) -> None:
        """Start every worker and import what the tasks need in each (a few tries)."""
        from joblib import Parallel, delayed

        workers = self.options.workers
        for _ in range(10):
            pids = Parallel(n_jobs=workers)(delayed(_unpickled)(common) for _ in range(workers))
            if len(set(pids)) == workers:
                return

    @contextlib.contextmanager
    def running(self, deadline: float | None) -> Iterator[None]:
        """Run scikit-learn's call in the block, under :meth:`config`, up to ``deadline``.

        At the deadline (``time.monotonic()``) the workers are killed, which ends the
        call. Raises :class:`TaskTimeoutError` then, and :class:`WorkerDiedError` when a
        worker died of another cause.
        """
        from joblib.externals.loky.process_executor import TerminatedWorkerError

        expired = threading.Event()

        def expire() -> None:
            expired.set()
            self._aside.kill_current()

        timer = None
        if deadline is not None:
            timer = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
            timer.daemon = True
            timer.start()
        try:
            with self.config():
                yield
        except Exception as exc:
            if expired.is_set() and self.options.timeout is not None:
                raise TaskTimeoutError(self.options.timeout) from exc
            if isinstance(exc, TerminatedWorkerError):
                codes = [int(c) for c in re.findall(r"\((-?\d+)\)", str(exc))]
                raise WorkerDiedError(None, codes[0] if codes else -1) from exc
            raise
        finally:
            if timer is not None:
                timer.cancel()


def _unpickled(common: tuple[Any, ...]) -> int:
    """A start-up task: its arguments, unpickled, import the tasks' modules; the pid."""
    import sklearn.model_selection  # noqa: F401 - what scikit-learn's tasks run in

    time.sleep(0.05)  # long enough for every worker to take one
    return os.getpid()


def _noop() -> None:
    """A task that does nothing: one per worker starts joblib's workers."""

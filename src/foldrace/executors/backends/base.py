"""What a backend is: one kind of worker, started, watched and stopped for one executor.

A strategy (``apply_async``, ``submit``, ...) asks its backend for the API it uses
(:attr:`Backend.apis`): ``"pool"`` (``multiprocessing.Pool``'s), ``"futures"``
(``concurrent.futures.Executor``'s), ``"joblib"`` (a ``joblib.Parallel``), ``"sklearn"``
(joblib's reusable workers, for scikit-learn's own searches) or ``"client"`` (Dask's
``Client``). The backend starts its workers behind that API with an initializer,
reports them ready, says what each task must carry (:meth:`Backend.task_call`, the data
passing), raises when a worker died (:meth:`Backend.check_alive`), and stops them.
Everything a backend can do is a declared flag, read by the registry, the checks of a
configuration, the harness and the docs tables.
"""

from __future__ import annotations

import importlib
import time
from abc import ABC
from collections.abc import Callable, Mapping
from functools import partial
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from foldrace.errors import InputError, WorkerDiedError
from foldrace.executors.data import call_with_worker_data
from foldrace.interrupts import stop_received

if TYPE_CHECKING:
    from foldrace.executors.options import RunOptions
    from foldrace.executors.spec import ExecutorSpec

__all__ = ["POLL_SECONDS", "STARTUP_SECONDS", "Backend", "StartupGate"]

POLL_SECONDS = 0.02
"""How often a waiting executor checks its workers and its deadline."""

STARTUP_SECONDS = 120.0
"""How long a pool's workers may take to start (spawn and forkserver import modules)."""

Opened = Any
"""The object a backend opens for a strategy: a pool, an executor, a ``Parallel``..."""


class Backend(ABC):
    """Base class of the backends: one kind of worker for one executor's lifetime.

    Subclasses declare their capabilities as class attributes and implement an
    ``open_<api>()`` method for each API in :attr:`apis`; each such method starts the
    workers, sets :attr:`_close` to what stops them, and returns the API object.

    Parameters
    ----------
    spec : ExecutorSpec
        The configuration (start method, data passing).
    options : RunOptions
        Workers, inner-thread limit, cluster address, ...
    common : tuple
        The arguments every task shares.
    """

    kind: ClassVar[str]
    """Registry key, also the configuration's ``backend`` axis value."""
    apis: ClassVar[frozenset[str]]
    """The APIs strategies can ask of it: ``pool``, ``futures``, ``joblib``, ``sklearn``,
    ``client``."""
    start_methods: ClassVar[tuple[str, ...]] = ()
    """How its worker processes can start, the default first; empty when there is no choice."""
    data_modes: ClassVar[tuple[str, ...]] = ()
    """Ways its workers can get the shared arguments, ``"task"`` first (see
    :mod:`foldrace.executors.data`); none to choose where workers share this memory."""
    api_data_modes: ClassVar[Mapping[str, tuple[str, ...]]] = MappingProxyType({})
    """The data passing modes of an API that offers fewer than :attr:`data_modes`."""
    uses_threads: ClassVar[bool] = False
    """Workers are threads of this process: nothing is pickled, a task cannot be killed."""
    uses_processes: ClassVar[bool] = False
    """Workers are processes of this machine, started with a start method."""
    watches_workers: ClassVar[bool] = False
    """A worker that dies is noticed and reported (:meth:`check_alive`)."""
    on_cluster: ClassVar[bool] = False
    """Workers run on a cluster, at :attr:`RunOptions.address` (see :mod:`foldrace.clusters`)."""
    library: ClassVar[str | None] = None
    """Module it needs beyond the standard library, installed by the extra named ``kind``."""

    def __init__(self, spec: ExecutorSpec, options: RunOptions, common: tuple[Any, ...]) -> None:
        self.spec = spec
        self.options = options
        self.common = common
        self._close: Callable[[bool, float | None], None] | None = None
        self._limits: Any = None
        """A BLAS/OpenMP thread limit set in this process for the workers, if any."""
        self.api: str | None = None
        """The API opened (see :meth:`open`)."""

    @classmethod
    def import_library(cls) -> ModuleType | None:
        """Import :attr:`library`, or say which extra installs it.

        Raises
        ------
        InputError
            If it is not installed; the message names the extra.
        """
        if cls.library is None:
            return None
        try:
            return importlib.import_module(cls.library)
        except ImportError:
            raise InputError(
                f"{cls.kind} executors need the {cls.library!r} package: "
                f'pip install "foldrace[{cls.kind}]"'
            ) from None

    def open(self, api: str) -> Opened:
        """Start the workers behind ``api`` and return its object (a pool, an executor...)."""
        self.api = api
        opened = getattr(self, f"open_{api}")()
        if self._close is None:
            raise RuntimeError(f"{type(self).__name__}.open_{api} did not say how to stop")
        return opened

    def close(self, abort: bool = False, deadline: float | None = None) -> None:
        """Stop the workers: wait for them, or kill them at once when ``abort``.

        ``deadline`` (``time.monotonic()``) is the run's: a backend whose workers cannot be
        killed (threads) waits for them until then.
        """
        close, self._close = self._close, None
        if close is not None:
            close(abort, deadline)

    def for_runs(self, parallel: Any) -> None:
        """Set a started ``joblib.Parallel``'s options for the runs, not for start-up: the
        run's timeout, the configuration's ``chunksize`` as joblib's ``batch_size`` (tasks
        per batch; joblib's own ``"auto"`` without one) and its ``pre_dispatch``."""
        parallel.timeout = self.options.timeout
        parallel.batch_size = self.spec.chunksize or "auto"
        parallel.pre_dispatch = self.spec.pre_dispatch or "2*n_jobs"

    def lift_limits(self) -> None:
        """Lift the thread limit this backend set in this process (see :attr:`_limits`)."""
        if self._limits is not None:
            self._limits.restore_original_limits()
            self._limits = None

    def task_call(self, fn: Callable[..., Any]) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        """The function and shared arguments each task carries, for the data passing.

        ``task``: ``fn`` and the shared arguments themselves; ``worker`` and ``shared``:
        a wrapper that finds them in the worker (:func:`call_with_worker_data`), nothing.
        """
        if self.spec.data_passing == "task":
            return fn, self.common
        return partial(call_with_worker_data, fn), ()

    def check_alive(self, pending: Callable[[], tuple[int, ...]] = tuple) -> None:
        """Raise :class:`~foldrace.errors.WorkerDiedError` if a worker died; ``pending()``
        names the unfinished tasks. Backends that cannot tell do nothing."""
        return

    def died(self, pending: tuple[int, ...]) -> WorkerDiedError:
        """The error for a pool its library found broken (a worker died)."""
        return WorkerDiedError(None, -1, pending)


class StartupGate:
    """Counts workers in as they start, and holds the first tasks until all have.

    Pools start workers lazily or return before they are up; under spawn and forkserver
    they still have modules to import. Waiting for every worker's initializer keeps that
    cost in the start-up time, not in the first tasks'. ``ready`` and ``started`` are
    semaphores of the workers' kind (threads' or a multiprocessing context's).
    """

    def __init__(self, workers: int, ready: Any, started: Any) -> None:
        self.workers = workers
        self.ready = ready
        self.started = started

    def wait(self, processes: Callable[[], list[Any]], start_method: str | None) -> None:
        """Wait until every worker has reported ready; release the held tasks either way.

        Checks meanwhile that none of ``processes()`` died while starting, which is what
        happens under spawn and forkserver when the main module cannot be imported safely.

        Raises
        ------
        RuntimeError
            If a worker died while starting, or they did not all start in time.
        KeyboardInterrupt
            If a stop signal was held back while they started.
        """
        deadline = time.monotonic() + STARTUP_SECONDS
        try:
            for _ in range(self.workers):
                while not self.ready.acquire(timeout=POLL_SECONDS):
                    if stop_received() is not None:  # held back while starting: stop now
                        raise KeyboardInterrupt
                    dead = [p for p in processes() if p.exitcode is not None]
                    if dead:
                        raise RuntimeError(
                            f"a worker process exited while starting (exit code "
                            f"{dead[0].exitcode}); under {start_method}, the main script "
                            "must guard its code with if __name__ == '__main__': (see its "
                            "error above)"
                        )
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"the {self.workers} workers did not all start within "
                            f"{STARTUP_SECONDS:g} s"
                        )
        finally:
            for _ in range(self.workers):  # never blocks
                self.started.release()

"""What every executor is: a context manager that owns its workers and runs one function.

An executor calls ``fn(*common, item)`` once for each item and returns the results in item
order, whatever order the workers finish in. ``common`` holds the arguments shared by every
call (the data, models and scorer), given once with :meth:`Executor.bind`; ``item`` is the
per-call argument (a fold task). Entering the context starts the workers (pool start-up),
:meth:`Executor.run` dispatches and computes, and leaving it stops them (shutdown); the
harness times the three apart.

A strategy is a subclass that names the API it needs (:attr:`Executor.api`) and implements
:meth:`Executor.dispatch`, its one idea; the backend behind that API
(:mod:`foldrace.executors.backends`) starts, watches and stops the workers, and the
configuration (:class:`~foldrace.executors.spec.ExecutorSpec` and
:class:`~foldrace.executors.options.RunOptions`) is checked once, when the executor is made.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Self

from foldrace.errors import TaskTimeoutError
from foldrace.executors.backends import BACKENDS, Backend
from foldrace.executors.options import DATA_MODES, RunOptions
from foldrace.executors.spec import ExecutorSpec
from foldrace.interrupts import deferred

__all__ = ["Executor"]


class Executor(ABC):
    """Base class of all executors (strategies).

    Subclasses set :attr:`name` (the registry key), :attr:`family` (the library it belongs
    to), :attr:`summary` (one line for the CLI and docs tables), :attr:`schedule` (their
    rule for handing tasks to workers, see :mod:`foldrace.schedule`) and :attr:`api`, and
    implement :meth:`dispatch`.

    Parameters
    ----------
    workers : int
        Number of workers.
    backend : {"process", "thread", "ray", "dask"}, optional
        Kind of worker; the first that offers the strategy's API if omitted.
    start_method : str, optional
        How worker processes start (``"fork"``, ``"spawn"``, ``"forkserver"``); the
        backend's default if omitted. Only for process backends.
    data_passing : {"task", "worker", "shared"}, optional
        How workers get the shared arguments: see :mod:`foldrace.executors.data`.
    chunksize : int, optional
        Tasks per chunk, for the strategies that send chunks (:attr:`takes_chunksize`).
    order : {"given", "longest-first", "shuffled"}, optional
        The order the harness submits tasks in (the executor runs what it is given).
    pre_dispatch : str, optional
        joblib's batches queued ahead (:attr:`takes_pre_dispatch`).
    **options
        ``timeout``, ``blas_threads``, ``address``: see
        :class:`~foldrace.executors.options.RunOptions`.
    """

    name: ClassVar[str]
    family: ClassVar[str] = "multiprocessing.Pool"
    summary: ClassVar[str]
    schedule: ClassVar[str] = "list"
    parallel: ClassVar[bool] = True
    api: ClassVar[str | None] = "pool"
    """What it needs from a backend (``pool``, ``futures``, ``joblib``, ``client``); None
    to run in this process."""
    start_methods: ClassVar[tuple[str, ...] | None] = None
    """Start methods of its own, instead of its process backend's (joblib's loky)."""
    data_modes: ClassVar[tuple[str, ...]] = DATA_MODES
    """Data passing modes it can use (where its backend offers them too)."""
    takes_chunksize: ClassVar[bool] = False
    """It sends tasks in chunks, and the configuration's ``chunksize`` sets their size."""
    takes_pre_dispatch: ClassVar[bool] = False
    """It queues batches ahead, and the configuration's ``pre_dispatch`` sets how many."""
    takes_order: ClassVar[bool] = True
    """The order tasks are handed over is the order it submits them (scikit-learn's own
    searches keep theirs: candidate by candidate)."""

    def __init__(
        self,
        workers: int = 1,
        *,
        backend: str | None = None,
        start_method: str | None = None,
        data_passing: str | None = None,
        chunksize: int | None = None,
        order: str | None = None,
        pre_dispatch: str | None = None,
        **options: Any,
    ) -> None:
        spec = ExecutorSpec.of(
            type(self), backend, start_method, data_passing, chunksize, order, pre_dispatch
        )
        self._configure(spec, RunOptions.checked(workers, **options))

    @classmethod
    def configured(cls, spec: ExecutorSpec, options: RunOptions) -> Self:
        """An executor from a checked configuration and options (no checks repeated)."""
        executor = cls.__new__(cls)
        executor._configure(spec, options)
        return executor

    def _configure(self, spec: ExecutorSpec, options: RunOptions) -> None:
        self.spec = spec
        self.options = options
        self.common: tuple[Any, ...] = ()
        self._backend: Backend | None = None
        self._opened: Any = None
        self._deadline: float | None = None

    @classmethod
    def backend_kinds(cls) -> tuple[str, ...]:
        """The backends that offer its API, the default first; none without an API."""
        return tuple(kind for kind, backend in BACKENDS.items() if cls.api in backend.apis)

    @property
    def workers(self) -> int:
        """Number of workers."""
        return self.options.workers

    @property
    def timeout(self) -> float | None:
        """Seconds one run may take."""
        return self.options.timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workers={self.workers})"

    def bind(self, common: Iterable[Any]) -> Self:
        """Hand over the arguments every call shares, before the workers start; returns self.

        Raises
        ------
        RuntimeError
            Once the workers have started: they may already hold the earlier ones.
        """
        if self._backend is not None:
            raise RuntimeError("bind() must come before the workers start")
        self.common = tuple(common)
        return self

    def __enter__(self) -> Self:
        try:
            # Starting forks processes; a stop signal raised inside fork's own hooks (which
            # run Python code in the parent) is swallowed there, or leaves a lock held. It
            # waits until the workers are up, then stops them.
            with deferred():
                self.start()
        except BaseException:
            with deferred():
                self.shutdown(abort=True)
            raise
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        with deferred():  # a stop signal must not cut the shutdown in half
            self.shutdown(abort=exc_type is not None)

    def start(self) -> None:
        """Start the workers behind the strategy's API (nothing to do without one)."""
        backend_class = self.spec.backend_class
        if backend_class is None or self.api is None:
            return
        self._backend = backend_class(self.spec, self.options, self.common)
        self._opened = self._backend.open(self.api)

    def shutdown(self, abort: bool = False) -> None:
        """Stop the workers: wait for them, or kill them at once when ``abort``."""
        backend, self._backend, self._opened = self._backend, None, None
        if backend is not None:
            backend.close(abort, self._deadline)

    @property
    def backend(self) -> Backend:
        """The running backend; only inside the ``with`` block."""
        if self._backend is None:
            raise RuntimeError(f"{self!r} is not started: use it as a context manager")
        return self._backend

    def deadline(self) -> float | None:
        """``time.monotonic()`` value after which the current run has timed out, or None."""
        return self._deadline

    def remaining(self) -> float | None:
        """Seconds left before the current run's deadline, or None without one."""
        deadline = self._deadline
        return None if deadline is None else max(0.0, deadline - time.monotonic())

    def timed_out(self) -> TaskTimeoutError:
        """The error for a run past its deadline (only a run with a timeout has one)."""
        timeout = self.options.timeout
        assert timeout is not None
        return TaskTimeoutError(timeout)

    def run(self, fn: Callable[..., Any], items: Iterable[Any]) -> list[Any]:
        """Call ``fn(*common, item)`` for every item; return the results in item order.

        The deadline (:attr:`RunOptions.timeout`) starts now; it is remembered until the
        executor stops, since an aborted thread pool waits for its running tasks until then.
        """
        items = list(items)
        timeout = self.options.timeout
        self._deadline = None if timeout is None else time.monotonic() + timeout
        if self.api is None:
            return self.dispatch(None, fn, self.common, items)
        backend = self.backend
        fn, common = backend.task_call(fn)
        return self.dispatch(self._opened, fn, common, items)

    @abstractmethod
    def dispatch(
        self, workers: Any, fn: Callable[..., Any], common: tuple[Any, ...], items: list[Any]
    ) -> list[Any]:
        """Call ``fn(*common, item)`` for every item through ``workers`` (the object the
        backend opened for :attr:`api`: a pool, an executor...); results in item order."""

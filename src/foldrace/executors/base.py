"""What every executor is: a context manager that owns its workers and runs one function.

An executor calls ``fn(*common, item)`` once for each item and returns the results in item
order, whatever order the workers finish in. ``common`` holds the arguments shared by every
call (the data, models and scorer); ``item`` is the per-call argument (a fold task). Entering
the context starts the workers (pool start-up), :meth:`Executor.run` dispatches and
computes, and leaving it stops them (shutdown); the harness times the three apart.
"""

from __future__ import annotations

import math
import multiprocessing
import numbers
import os
import sys
import threading
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Self

from threadpoolctl import ThreadpoolController

from foldrace.errors import InputError
from foldrace.interrupts import deferred, signals_received

__all__ = [
    "CLUSTER_POOLS",
    "DATA_MODES",
    "DEFAULT_START_METHOD",
    "LOCAL_POOLS",
    "POOLS",
    "Executor",
    "check_blas_threads",
    "check_start_method",
    "check_timeout",
    "check_workers",
    "join_threads",
    "max_workers",
    "threads_left_behind",
    "usable_cpus",
]

DEFAULT_START_METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
"""The start method foldrace uses unless told otherwise, set explicitly rather than left to
the platform (Python 3.14 moved Linux's default from fork to forkserver)."""


def usable_cpus() -> int:
    """Number of CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def max_workers() -> int:
    """The largest worker count foldrace accepts: 32 per usable CPU."""
    return 32 * usable_cpus()


def check_workers(workers: object, *, warn: bool = False) -> int:
    """Return ``workers`` as an int after checking it is a sane worker count.

    With ``warn``, a ``RuntimeWarning`` says when it is above the usable CPU count, where
    workers share cores.

    Raises
    ------
    InputError
        If ``workers`` is not an integer, is below 1, or is above :func:`max_workers`.
    """
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral):
        raise InputError(f"workers must be a positive integer, got {workers!r}")
    workers = int(workers)
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    if workers > max_workers():
        raise InputError(
            f"workers={workers} is more than foldrace allows on this machine "
            f"({max_workers()}, 32 per usable CPU)"
        )
    if warn and workers > usable_cpus():
        warnings.warn(
            f"workers={workers} is more than the {usable_cpus()} usable CPUs: "
            "workers will share cores",
            RuntimeWarning,
            stacklevel=3,
        )
    return workers


def check_start_method(method: object) -> str:
    """Return ``method``, or :data:`DEFAULT_START_METHOD` for None, after checking it exists here.

    Raises
    ------
    InputError
        If this platform has no such start method; the message lists the ones it has.
    """
    if method is None:
        return DEFAULT_START_METHOD
    available = multiprocessing.get_all_start_methods()
    if method not in available:
        raise InputError(
            f"unknown start method {method!r}; this platform has: {', '.join(available)}"
        )
    return str(method)


def check_blas_threads(threads: object) -> int | None:
    """Return ``threads`` (inner BLAS/OpenMP threads per worker), or None for no limit.

    Raises
    ------
    InputError
        If ``threads`` is neither None nor a positive integer.
    """
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or threads < 1:
        raise InputError(f"blas_threads must be a positive integer or None, got {threads!r}")
    return int(threads)


def limit_inner_threads(threads: int | None, *, inherited: bool = False) -> None:
    """Limit BLAS and OpenMP thread pools in this process for the rest of its life.

    Libraries already loaded are limited with threadpoolctl; the environment variables
    cover those loaded later. Used in worker processes, which belong to one executor.

    With ``inherited``, the process was forked from a parent that set the limit before
    forking, so only the environment variables are set: calling OpenBLAS's
    ``set_num_threads`` in a forked child restarts its thread server with the default
    thread count, and those extra threads compete for the cores (measured: two fork
    workers each ran three threads, and their tasks took 50% longer).
    """
    if threads is None:
        return
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)
    if not inherited:
        _LIMITS.append(limit_threads_here(threads))


_LIMITS: list[Any] = []  # keeps this process's limits alive
_CONTROLLERS: dict[int, ThreadpoolController] = {}


def limit_threads_here(threads: int) -> Any:
    """Limit BLAS/OpenMP threads in this process (this thread, for OpenMP) until restored.

    Like ``threadpoolctl.threadpool_limits``, with the scan for loaded libraries done once
    per set of imported modules rather than on every call (3.4 ms each time, measured).
    Returns the limiter; call ``restore_original_limits()`` on it to lift the limit.
    """
    key = len(sys.modules)
    controller = _CONTROLLERS.get(key)
    if controller is None:
        _CONTROLLERS.clear()
        controller = _CONTROLLERS[key] = ThreadpoolController()
    return controller.limit(limits=threads)


def check_timeout(timeout: object) -> float | None:
    """Return ``timeout`` as a positive float, or None for no timeout.

    Raises
    ------
    InputError
        If ``timeout`` is not a positive, finite number.
    """
    if timeout is None:
        return None
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, numbers.Real)
        or not 0 < timeout < math.inf
    ):
        raise InputError(f"timeout must be a positive, finite number of seconds, got {timeout!r}")
    return float(timeout)


LOCAL_POOLS = ("process", "thread")
"""Kinds of worker on this machine: processes (own memory, started with a start method) or
threads (one process, shared memory, the GIL)."""

CLUSTER_POOLS = ("ray", "dask")
"""Kinds of worker on a cluster (see :mod:`foldrace.clusters`)."""

POOLS = LOCAL_POOLS + CLUSTER_POOLS
"""Every kind of worker."""

DATA_MODES = ("task", "worker", "shared")
"""How process workers get the shared arguments (the data): pickled with every task, once
per worker through the pool initializer, or through shared memory."""


class Executor(ABC):
    """Base class of all executors.

    Subclasses set :attr:`name` (the registry key), :attr:`family` (the API it belongs
    to), :attr:`summary` (one line for the CLI and docs tables), :attr:`schedule` (their
    rule for handing tasks to workers, see :mod:`foldrace.schedule`) and the axes they
    support (:attr:`pools`, :attr:`start_methods`, :attr:`data_modes`), and implement
    :meth:`run`; those with workers to manage also override :meth:`start` and
    :meth:`shutdown`.

    Parameters
    ----------
    workers : int
        Number of workers.
    pool : {"process", "thread"}, optional
        Kind of worker, the first of :attr:`pools` if omitted.
    start_method : str, optional
        How worker processes start (``"fork"``, ``"spawn"``, ``"forkserver"``);
        :data:`DEFAULT_START_METHOD` if omitted. Only for process pools.
    data_passing : {"task", "worker", "shared"}
        How process workers get the shared arguments: see :mod:`foldrace.executors.data`.
    address : str, optional
        For the cluster pool kinds (``"ray"``, ``"dask"``): the cluster to run on, as
        :func:`foldrace.clusters.open_cluster` gives it.
    timeout : float, optional
        Seconds one :meth:`run` may take before it raises
        :class:`~foldrace.errors.TaskTimeoutError`; a last line of defence, not the way
        failures are normally detected.
    blas_threads : int or None
        Inner BLAS/OpenMP threads per worker (threadpoolctl), 1 by default so that
        ``workers`` workers never run ``workers x cores`` threads; None leaves the
        libraries' own defaults.
    """

    name: ClassVar[str]
    family: ClassVar[str] = "multiprocessing.Pool"
    summary: ClassVar[str]
    schedule: ClassVar[str] = "list"
    parallel: ClassVar[bool] = True
    pools: ClassVar[tuple[str, ...]] = LOCAL_POOLS
    """Kinds of worker this executor can run on, the default first; empty for serial."""
    start_methods: ClassVar[tuple[str, ...] | None] = None
    """Start methods for its process pool; None for all the platform has."""
    data_modes: ClassVar[tuple[str, ...]] = DATA_MODES
    """Ways its process pool can get the data, ``"task"`` first."""

    def __init__(
        self,
        workers: int = 1,
        *,
        pool: str | None = None,
        start_method: str | None = None,
        data_passing: str = "task",
        address: str | None = None,
        timeout: float | None = None,
        blas_threads: int | None = 1,
    ) -> None:
        self.workers = check_workers(workers)
        self.timeout = check_timeout(timeout)
        self.blas_threads = check_blas_threads(blas_threads)
        self.pool_kind = _check_axis(self, "pool", pool, self.pools)
        platform = multiprocessing.get_all_start_methods()
        methods = self.start_methods or (
            DEFAULT_START_METHOD,
            *(m for m in platform if m != DEFAULT_START_METHOD),
        )  # the default first: it is taken when none is given
        self.start_method = _check_axis(
            self, "start method", start_method, methods if self.uses_processes else ()
        )
        self.data_passing = (
            _check_axis(self, "data passing", data_passing, self.data_modes_for(self.pool_kind))
            or "task"
        )
        self.address = address
        """Cluster address for the cluster pool kinds (None: not on a cluster)."""
        self._common: tuple[Any, ...] | None = None
        self._deadline: float | None = None

    @classmethod
    def data_modes_for(cls, pool: str | None) -> tuple[str, ...]:
        """Data passing modes on ``pool`` workers: none for threads (they share memory)."""
        if pool in (None, "thread"):
            return ()
        if pool == "dask":  # no per-worker initializer: scatter or send with every task
            return tuple(m for m in cls.data_modes if m != "worker")
        return cls.data_modes

    @property
    def uses_processes(self) -> bool:
        """True when the workers are processes started with a start method."""
        return self.pool_kind == "process"

    def bind(self, common: tuple[Any, ...]) -> Self:
        """Hand over the shared arguments before the workers start; returns ``self``.

        With ``data_passing="worker"`` or ``"shared"`` the workers receive them when they start,
        so :meth:`run` must then be given the same objects. Optional with
        ``data_passing="task"``.
        """
        self._common = common
        return self

    def check_common(self, common: tuple[Any, ...]) -> None:
        """Check that :meth:`run` got the shared arguments :meth:`bind` got.

        The same objects in the same order, not necessarily the same tuple
        (``Workload.common_args`` makes a new one each time).

        Raises
        ------
        RuntimeError
            If they are other objects: the workers already hold the bound ones.
        """
        bound = self._common
        if bound is None or common is bound:
            return
        same = len(common) == len(bound) and all(a is b for a, b in zip(common, bound, strict=True))
        if not same:
            raise RuntimeError("run() must get the same shared arguments that bind() got")

    def deadline(self) -> float | None:
        """``time.monotonic()`` value after which a run started now has timed out.

        Remembered until the executor stops: an aborted thread pool waits for its running
        tasks until then (threads cannot be killed), and leaves behind only those still
        running past it.
        """
        self._deadline = None if self.timeout is None else time.monotonic() + self.timeout
        return self._deadline

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workers={self.workers})"

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

    def start(self) -> None:  # noqa: B027 - optional hook
        """Start the workers. Nothing to do for executors without any."""

    def shutdown(self, abort: bool = False) -> None:  # noqa: B027 - optional hook
        """Stop the workers: wait for them, or kill them at once when ``abort``."""

    @abstractmethod
    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """Call ``fn(*common, item)`` for every item; return the results in item order."""


_LEFT_BEHIND: list[threading.Thread] = []
POLL_SECONDS = 0.02
"""How often a waiting executor checks its workers and its deadline."""
WAIT_NOTICE_SECONDS = 1.0
"""After this long waiting for an aborted thread pool's tasks, say so (once)."""


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


def _check_axis(executor: Executor, axis: str, value: str | None, allowed: tuple) -> str | None:
    """Return ``value``, or the first allowed value for None, if the executor supports it.

    An empty ``allowed`` means the axis does not apply (serial has no pool, threads have no
    start method); only None, or ``"task"`` for data passing, is accepted then.
    """
    if value is None or (not allowed and axis == "data passing" and value == "task"):
        return allowed[0] if allowed else None
    if value not in allowed:
        where = f"'{executor.name}'" + (
            f" on {executor.pool_kind} workers" if getattr(executor, "pool_kind", None) else ""
        )
        if allowed:
            raise InputError(f"executor {where} offers {axis} {', '.join(allowed)}; got {value!r}")
        raise InputError(f"executor {where} has no {axis} to choose; got {value!r}")
    return value

"""Inner BLAS and OpenMP threads: limited in every worker so that workers never compete.

Parallel workers that each run a multi-threaded BLAS or OpenMP loop on every core run
``workers x cores`` threads; foldrace limits them to ``blas_threads`` per worker (1 by
default) with threadpoolctl, in the worker or, for fork, in the parent before forking.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from threadpoolctl import ThreadpoolController

__all__ = [
    "THREAD_VARIABLES",
    "ThreadLimited",
    "ThreadSettings",
    "limit_inner_threads",
    "limit_threads_here",
    "restore_thread_settings",
    "thread_settings",
]

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""The environment variables that set the thread count of libraries loaded later."""

ThreadSettings = tuple[dict[str, int], dict[str, str | None]]
"""A process's inner-thread settings: the thread count of each loaded BLAS/OpenMP library
(by its threadpoolctl prefix) and the value of each of :data:`THREAD_VARIABLES` (None: unset).
"""

_LIMITS: list[Any] = []  # keeps this process's limits alive
_CONTROLLERS: dict[int, ThreadpoolController] = {}


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
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(threads)
    if not inherited:
        _LIMITS.append(limit_threads_here(threads))


def thread_settings() -> ThreadSettings:
    """This process's inner-thread settings (see :data:`ThreadSettings`)."""
    counts = {info["prefix"]: info["num_threads"] for info in _controller().info()}
    return counts, {variable: os.environ.get(variable) for variable in THREAD_VARIABLES}


def restore_thread_settings(settings: ThreadSettings) -> None:
    """Take ``settings`` (another process's) for the rest of this process's life.

    A worker forked from a fork server that limits its threads inherits that limit; a pool
    that asks for no limit (``blas_threads=None``) gives its workers the parent's settings
    this way: the libraries' own defaults, unless the parent set others.
    """
    counts, variables = settings
    for variable, value in variables.items():
        if value is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = value
    _LIMITS.append(_controller().limit(limits=counts))


def _controller() -> ThreadpoolController:
    """A controller of the libraries loaded now, scanned once per set of imported modules."""
    key = len(sys.modules)
    controller = _CONTROLLERS.get(key)
    if controller is None:
        _CONTROLLERS.clear()
        controller = _CONTROLLERS[key] = ThreadpoolController()
    return controller


def limit_threads_here(threads: int) -> Any:
    """Limit BLAS/OpenMP threads in this process (this thread, for OpenMP) until restored.

    Like ``threadpoolctl.threadpool_limits``, with the scan for loaded libraries done once
    per set of imported modules rather than on every call (3.4 ms each time, measured).
    Returns the limiter; call ``restore_original_limits()`` on it to lift the limit.
    """
    return _controller().limit(limits=threads)


class ThreadLimited:
    """``fn`` that runs with BLAS and OpenMP limited to ``threads``, then lifts the limit.

    For workers that foldrace does not start, and so cannot limit once (Dask's): each task
    sets the limit in its own thread. It carries ``fn``'s name, which Dask names its tasks
    after (``benchmark_fold-<hash>`` on the dashboard and in errors, not this wrapper's).
    """

    def __init__(self, threads: int, fn: Any) -> None:
        self.threads = threads
        self.fn = fn
        self.__name__ = getattr(fn, "__name__", type(fn).__name__)

    def __call__(self, *args: Any) -> Any:
        limits = limit_threads_here(self.threads)
        try:
            return self.fn(*args)
        finally:
            limits.restore_original_limits()

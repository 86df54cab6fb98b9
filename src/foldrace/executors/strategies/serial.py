"""The reference: a plain loop in the calling process, the baseline of every speedup."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from foldrace.errors import InputError, TaskTimeoutError
from foldrace.executors.base import Executor
from foldrace.executors.inner_threads import limit_threads_here
from foldrace.executors.options import RunOptions
from foldrace.executors.spec import ExecutorSpec

__all__ = ["SerialExecutor"]


class SerialExecutor(Executor):
    """Run every task one after another in this process; the baseline of every speedup."""

    name = "serial"
    summary = "a for loop in the calling process: the reference for speedup and scores"
    family = "reference"
    schedule = "sequential"
    parallel = False
    api = None

    def _configure(self, spec: ExecutorSpec, options: RunOptions) -> None:
        if options.workers != 1:
            raise InputError(f"executor 'serial' runs on one worker, got workers={options.workers}")
        super()._configure(spec, options)

    def dispatch(
        self, workers: None, fn: Callable[..., Any], common: tuple[Any, ...], items: list[Any]
    ) -> list[Any]:
        """Call ``fn(*common, item)`` for each item, in order.

        With a timeout, a task still running at the deadline is interrupted by a timer
        signal where one can be used (the main thread on Unix); elsewhere the deadline is
        checked between tasks. Inner BLAS/OpenMP threads are limited for the run, as in
        every worker of the parallel executors.
        """
        threads = self.options.blas_threads
        limits = contextlib.nullcontext() if threads is None else limit_threads_here(threads)
        with _alarm(self.timeout), limits:
            results = []
            for item in items:
                results.append(fn(*common, item))
                if self.remaining() == 0.0:
                    raise self.timed_out()
            return results


@contextlib.contextmanager
def _alarm(timeout: float | None) -> Iterator[None]:
    """Raise :class:`TaskTimeoutError` in this thread after ``timeout`` seconds, if possible."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if timeout is None or not usable:
        yield
        return
    seconds = timeout

    def expire(signum: int, frame: object) -> None:
        raise TaskTimeoutError(seconds)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

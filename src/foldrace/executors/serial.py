"""The reference: a plain loop in the calling process."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from foldrace.errors import InputError, TaskTimeoutError
from foldrace.executors.base import Executor, limit_threads_here

__all__ = ["SerialExecutor"]


class SerialExecutor(Executor):
    """Run every task one after another in this process; the baseline of every speedup."""

    name = "serial"
    summary = "a for loop in the calling process: the reference for speedup and scores"
    family = "reference"
    schedule = "sequential"
    parallel = False
    pools = ()

    def __init__(self, workers: int = 1, **options: Any) -> None:
        super().__init__(workers, **options)
        if self.workers != 1:
            raise InputError(f"executor 'serial' runs on one worker, got workers={self.workers}")

    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """Call ``fn(*common, item)`` for each item, in order.

        With a timeout, a task still running at the deadline is interrupted by a timer
        signal where one can be used (the main thread on Unix); elsewhere the deadline is
        checked between tasks. Inner BLAS/OpenMP threads are limited for the run, as in
        every worker of the parallel executors.
        """
        deadline = self.deadline()
        limits = (
            contextlib.nullcontext()
            if self.blas_threads is None
            else limit_threads_here(self.blas_threads)
        )
        with _alarm(self.timeout), limits:
            results = []
            for item in items:
                results.append(fn(*common, item))
                if deadline is not None and time.monotonic() > deadline:
                    raise TaskTimeoutError(self.timeout)
            return results


@contextlib.contextmanager
def _alarm(timeout: float | None) -> Iterator[None]:
    """Raise :class:`TaskTimeoutError` in this thread after ``timeout`` seconds, if possible."""
    usable = (
        timeout is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TaskTimeoutError(timeout)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

"""The reference: a plain loop in the calling process."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from foldrace.errors import InputError
from foldrace.executors.base import Executor

__all__ = ["SerialExecutor"]


class SerialExecutor(Executor):
    """Run every task one after another in this process; the baseline of every speedup."""

    name = "serial"
    summary = "a for loop in the calling process: the reference for speedup and scores"
    schedule = "sequential"
    parallel = False

    def __init__(self, workers: int = 1) -> None:
        super().__init__(workers)
        if self.workers != 1:
            raise InputError(f"executor 'serial' runs on one worker, got workers={self.workers}")

    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """Call ``fn(*common, item)`` for each item, in order."""
        return [fn(*common, item) for item in items]

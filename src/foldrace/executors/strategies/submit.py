"""``concurrent.futures``: ``Executor.submit`` for every task, results collected with
``as_completed``; a failure is raised as soon as its future completes.

Timeouts and broken pools become foldrace's errors in :mod:`.waiting`; the workers come from
a backend (:mod:`foldrace.executors.backends`).
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable
from typing import Any

from foldrace.executors.strategies.waiting import FuturesStrategy

__all__ = ["SubmitExecutor"]


class SubmitExecutor(FuturesStrategy):
    """``Executor.submit`` for every task, results collected with ``as_completed``."""

    name = "submit"
    summary = "concurrent.futures submit + as_completed: futures by task index, fail fast"

    def dispatch(
        self, executor: Any, fn: Callable[..., Any], common: tuple[Any, ...], items: list[Any]
    ) -> list[Any]:
        """Submit everything, then take each future as it completes."""
        futures = {executor.submit(fn, *common, item): i for i, item in enumerate(items)}
        results: dict[int, Any] = {}
        with self.failures(lambda: set(range(len(items))) - set(results)):
            for future in cf.as_completed(futures, timeout=self.remaining()):
                results[futures[future]] = future.result()
        return [results[index] for index in range(len(items))]

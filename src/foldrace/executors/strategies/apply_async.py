"""``Pool.apply_async`` with callbacks: every task queued at once, each result stored by
its task index as it arrives. The blog's recommended strategy.

The safe wait (a dead worker, the deadline) is in :mod:`.waiting`; the workers come from a
backend (:mod:`foldrace.executors.backends`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from foldrace.executors.strategies.waiting import PoolStrategy

__all__ = ["ApplyAsyncExecutor"]


class ApplyAsyncExecutor(PoolStrategy):
    """``Pool.apply_async`` for every task, with a ``callback`` and an ``error_callback``."""

    name = "apply_async"
    summary = "Pool.apply_async with callbacks: all tasks queued at once, results by task index"

    def dispatch(
        self, pool: Any, fn: Callable[..., Any], common: tuple[Any, ...], items: list[Any]
    ) -> list[Any]:
        """Submit every task, let callbacks store results by index, then return them in order.

        The callbacks run in the pool's result thread, in completion order; each stores its
        result under the task's index, so the order of completion cannot leak out. An
        ``error_callback`` records failures, so a failing task is never silently missing:
        the first failure (in task order, among those seen) is raised as soon as it
        arrives, without waiting for the other tasks.
        """
        results: dict[int, Any] = {}
        errors: dict[int, BaseException] = {}
        arrived = threading.Event()

        def store(table: dict[int, Any], index: int, value: Any) -> None:
            table[index] = value
            arrived.set()

        for index, item in enumerate(items):
            pool.apply_async(
                fn,
                (*common, item),
                callback=partial(store, results, index),
                error_callback=partial(store, errors, index),
            )

        def done(seconds: float) -> bool:
            arrived.wait(seconds)
            arrived.clear()
            return bool(errors) or len(results) == len(items)

        def pending() -> tuple[int, ...]:
            return tuple(i for i in range(len(items)) if i not in results and i not in errors)

        self.wait(done, pending)
        if errors:
            raise errors[min(errors)]
        return [results[index] for index in range(len(items))]

"""``Pool.apply`` in a loop: each call blocks until its task is done, so one worker works
at a time. The blog's first, and slowest, parallel strategy.

The safe wait (a dead worker, the deadline) is in :mod:`.waiting`; the workers come from a
backend (:mod:`foldrace.executors.backends`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from foldrace.executors.strategies.waiting import PoolStrategy

__all__ = ["ApplyExecutor"]


class ApplyExecutor(PoolStrategy):
    """A loop of ``Pool.apply``: each call blocks until its task is done."""

    name = "apply"
    schedule = "sequential"
    summary = "a loop of Pool.apply: blocks on every task, so one worker is busy at a time"

    def dispatch(
        self, pool: Any, fn: Callable[..., Any], common: tuple[Any, ...], items: list[Any]
    ) -> list[Any]:
        """Submit one task, wait for it, then the next.

        ``pool.apply(fn, args)`` is ``pool.apply_async(fn, args).get()``; the wait goes
        through :meth:`~.waiting.PoolStrategy.get`, which watches the workers.
        """
        return [
            self.get(pool.apply_async(fn, (*common, item)), partial(tuple, (index,)))
            for index, item in enumerate(items)
        ]

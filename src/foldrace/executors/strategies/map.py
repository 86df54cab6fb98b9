"""``Pool.map`` over the tasks, the shared arguments bound with ``functools.partial``:
one argument per call, tasks sent in chunks.

The safe wait (a dead worker, the deadline) is in :mod:`.waiting`; the workers come from a
backend (:mod:`foldrace.executors.backends`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from foldrace.executors.strategies.waiting import PoolStrategy

__all__ = ["MapExecutor"]


class MapExecutor(PoolStrategy):
    """``Pool.map`` over the tasks, the shared arguments bound with ``functools.partial``."""

    name = "map"
    schedule = "chunked"
    summary = "Pool.map over a partial: one argument per call, tasks sent in chunks"
    takes_chunksize = True

    def dispatch(
        self, pool: Any, fn: Callable[..., Any], common: tuple[Any, ...], items: list[Any]
    ) -> list[Any]:
        """Bind the shared arguments first: ``map`` passes one argument per call.

        ``pool.map(...)`` is ``pool.map_async(...).get()``; the wait goes through
        :meth:`~.waiting.PoolStrategy.get`, which watches the workers.
        """
        result = pool.map_async(partial(fn, *common), items, self.spec.chunksize)
        return list(self.get(result))

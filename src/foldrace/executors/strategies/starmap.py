"""``Pool.starmap`` over argument tuples ``(*common, item)``: tasks sent in chunks, each
tuple unpacked into the function.

The safe wait (a dead worker, the deadline) is in :mod:`.waiting`; the workers come from a
backend (:mod:`foldrace.executors.backends`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from foldrace.executors.strategies.waiting import PoolStrategy

__all__ = ["StarmapExecutor"]


class StarmapExecutor(PoolStrategy):
    """``Pool.starmap`` over argument tuples ``(*common, item)``."""

    name = "starmap"
    schedule = "chunked"
    summary = "Pool.starmap over argument tuples: tasks sent in chunks"
    takes_chunksize = True

    def dispatch(
        self, pool: Any, fn: Callable[..., Any], common: tuple[Any, ...], items: list[Any]
    ) -> list[Any]:
        """Pack each call's arguments into a tuple; the pool unpacks them into ``fn``."""
        arguments = [(*common, item) for item in items]
        return list(self.get(pool.starmap_async(fn, arguments, self.spec.chunksize)))

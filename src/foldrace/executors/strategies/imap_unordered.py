"""``Pool.imap_unordered``: a lazy iterator yielding results as they complete, sorted back
by task index.

The safe wait (a dead worker, the deadline) is in :mod:`.waiting`; the workers come from a
backend (:mod:`foldrace.executors.backends`).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from functools import partial
from typing import Any

from foldrace.executors.strategies.waiting import PoolStrategy

__all__ = ["ImapUnorderedExecutor"]


class ImapUnorderedExecutor(PoolStrategy):
    """``Pool.imap_unordered``: a lazy iterator yielding results as they complete."""

    name = "imap_unordered"
    summary = "Pool.imap_unordered: results in completion order, sorted back by task index"
    takes_chunksize = True

    def dispatch(
        self, pool: Any, fn: Callable[..., Any], common: tuple[Any, ...], items: list[Any]
    ) -> list[Any]:
        """Tag every task with its index, collect results as they arrive, then sort them.

        With the default chunk size of 1 a free worker takes the next task, as with
        ``apply_async``; a failure is raised as soon as its task comes back. Larger chunks
        are made here, as ``imap_unordered`` makes them itself (for a chunk size above 1,
        CPython returns a plain generator, which cannot wait with a timeout), and sent as
        one task each.
        """
        size = self.spec.chunksize or 1
        pairs = list(enumerate(items))
        chunks = [pairs[start : start + size] for start in range(0, len(pairs), size)]
        iterator = pool.imap_unordered(partial(_indexed, partial(fn, *common)), chunks, 1)
        results: dict[int, Any] = {}

        def done(seconds: float) -> bool:
            try:
                results.update(iterator.next(seconds))
            except multiprocessing.TimeoutError:
                return False
            except StopIteration:
                return True
            return len(results) == len(items)

        if items:
            self.wait(done, lambda: tuple(i for i in range(len(items)) if i not in results))
        return [results[index] for index in range(len(items))]


def _indexed(fn: Callable[[Any], Any], chunk: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """Call ``fn(item)`` for each ``(index, item)`` of a chunk, keeping the indices."""
    return [(index, fn(item)) for index, item in chunk]

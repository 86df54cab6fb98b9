"""Dask's own API: ``Client.map`` over the tasks, each shared argument repeated for every
call; one future per task.

The client (``pure=False``, pinned to the chosen workers, data scattered or not) comes from
the Dask backend (:mod:`foldrace.executors.backends.dask_workers`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from foldrace.executors.base import Executor
from foldrace.executors.strategies.dask_submit import gather_in_order

__all__ = ["DaskMapExecutor"]


class DaskMapExecutor(Executor):
    """``Client.map`` over the tasks, the shared arguments repeated for every call."""

    name = "dask_map"
    family = "dask.distributed"
    summary = "Dask Client.map(pure=False) on a cluster: one future per task, in task order"
    api = "client"

    def dispatch(
        self, client: Any, fn: Callable[..., Any], common: tuple[Any, ...], items: list[Any]
    ) -> list[Any]:
        """Map over the items, each shared argument a constant column beside them.

        Plain arguments, not a ``functools.partial``: Dask resolves the futures of
        scattered data only where it can see them.
        """
        columns = [list(itertools.repeat(value, len(items))) for value in common]
        return gather_in_order(client.map(fn, *columns, items), self.timeout)

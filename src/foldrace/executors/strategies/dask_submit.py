"""Dask's own API: ``Client.submit`` for every task, collected with ``as_completed``; a
failure is raised as soon as its future completes.

The client (``pure=False``, pinned to the chosen workers, data scattered or not) comes from
the Dask backend (:mod:`foldrace.executors.backends.dask_workers`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from foldrace.errors import TaskTimeoutError
from foldrace.executors.base import Executor

__all__ = ["DaskSubmitExecutor", "gather_in_order"]


class DaskSubmitExecutor(Executor):
    """``Client.submit`` for every task, collected with ``as_completed``."""

    name = "dask_submit"
    family = "dask.distributed"
    summary = "Dask Client.submit(pure=False) + as_completed on a cluster, fail fast"
    api = "client"

    def dispatch(
        self, client: Any, fn: Callable[..., Any], common: tuple[Any, ...], items: list[Any]
    ) -> list[Any]:
        """Submit every task; take results as they complete."""
        futures = [client.submit(fn, *common, item) for item in items]
        return gather_in_order(futures, self.timeout)


def gather_in_order(futures: list[Any], timeout: float | None) -> list[Any]:
    """Results of Dask futures in their order, raising the first failure as it completes."""
    from distributed import TimeoutError as DaskTimeout
    from distributed import as_completed

    index = {future.key: i for i, future in enumerate(futures)}
    results: dict[int, Any] = {}
    try:
        for future in as_completed(futures, timeout=timeout):
            results[index[future.key]] = future.result()
    except (TimeoutError, DaskTimeout):
        if timeout is None:
            raise
        raise TaskTimeoutError(timeout) from None
    return [results[i] for i in range(len(futures))]

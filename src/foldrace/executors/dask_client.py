"""Dask distributed: ``Client.submit`` + ``as_completed``, ``Client.map``, and the
concurrent.futures interface (``client.get_executor()``) for the futures strategies.

Every call is submitted with ``pure=False``: identical calls would otherwise be computed
once and shared (Dask's default assumes pure functions, keyed by their arguments). A run
on fewer workers than the cluster has is pinned to its first ``w`` workers. ``shared`` data
passing scatters X and y to every worker once (``Client.scatter(broadcast=True)``);
``task`` sends them with every task.

The module is also the preload of foldrace's embedded ``LocalCluster``: its
:func:`dask_setup` stops the HTTP server that every Dask scheduler and worker starts, and
has each worker ignore SIGINT.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from foldrace.errors import TaskTimeoutError
from foldrace.executors.base import Executor
from foldrace.executors.futures import constant_columns

__all__ = ["DaskConnection", "DaskMapExecutor", "DaskSubmitExecutor", "dask_setup"]


def dask_setup(server: Any) -> None:
    """Preload hook: stop a Dask scheduler's or worker's HTTP server as it starts.

    Dask starts one on every scheduler and worker, dashboards off or not (the scheduler's
    on port 8787); foldrace's embedded cluster serves no pages, so it closes them. A
    worker process also ignores SIGINT from then on (a Ctrl-C in a terminal reaches the
    whole process group): the process that started the cluster stops it.
    """
    http = getattr(server, "http_server", None)
    if http is not None:
        http.stop()
    from distributed import Worker

    if isinstance(server, Worker) and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


class DaskConnection:
    """A client on the executor's cluster, pinned to ``workers`` of its workers."""

    def __init__(self, executor: Executor) -> None:
        from foldrace.clusters import import_extra

        distributed = import_extra("dask")
        if executor.address is None:
            raise RuntimeError("dask executors need a cluster address (see foldrace.clusters)")
        self.client = distributed.Client(executor.address, timeout="30s")
        try:
            known = sorted(self.client.scheduler_info(n_workers=-1)["workers"])
            if len(known) < executor.workers:
                raise RuntimeError(
                    f"the Dask cluster at {executor.address} has {len(known)} workers, "
                    f"fewer than the {executor.workers} asked for"
                )
            # the whole cluster: no restrictions (a worker that dies and comes back gets a
            # new address, which a pinned task would wait for forever)
            self.workers = known[: executor.workers] if len(known) > executor.workers else None
            self.common: tuple[Any, ...] | None = None
            if executor.data_passing == "shared":
                self.common = tuple(
                    self.client.scatter(v, broadcast=True, workers=self.workers)
                    if isinstance(v, np.ndarray)
                    else v
                    for v in executor._common
                )
        except BaseException:
            self.client.close()
            raise
        self.executor = executor

    def call_args(self, common: tuple[Any, ...]) -> tuple[Any, ...]:
        """The shared arguments each task carries: the values, or futures of scattered ones."""
        if self.common is None:
            return common
        self.executor.check_common(common)
        return self.common

    def options(self) -> dict[str, Any]:
        """Keywords for ``submit`` and ``map``: impure, pinned to the chosen workers."""
        if self.workers is None:
            return {"pure": False}
        return {"pure": False, "workers": self.workers, "allow_other_workers": False}

    def close(self, abort: bool = False) -> None:
        """Cancel what is left (when ``abort``) and close the client."""
        try:
            if abort:
                self.client.cancel(list(self.client.futures.values()), force=True)
        finally:
            self.client.close()


class _DaskExecutor(Executor):
    """Base of the Dask client strategies: owns a :class:`DaskConnection`."""

    family = "dask.distributed"
    schedule = "list"
    pools = ("dask",)
    data_modes = ("task", "shared")

    def __init__(self, workers: int = 1, **options: Any) -> None:
        super().__init__(workers, **options)
        self._connection: DaskConnection | None = None

    def start(self) -> None:
        """Connect to the cluster and scatter the data if asked."""
        self._connection = DaskConnection(self)

    def shutdown(self, abort: bool = False) -> None:
        """Close the client (cancelling what is left when ``abort``)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close(abort)

    @property
    def connection(self) -> DaskConnection:
        """The open connection; only inside the ``with`` block."""
        if self._connection is None:
            raise RuntimeError(f"{self!r} is not started: use it as a context manager")
        return self._connection

    def _gather(self, futures: list[Any]) -> list:
        """Results in task order, raising the first failure as soon as it completes."""
        from distributed import TimeoutError as DaskTimeout
        from distributed import as_completed

        index = {future.key: i for i, future in enumerate(futures)}
        results: dict[int, Any] = {}
        try:
            for future in as_completed(futures, timeout=self.timeout):
                results[index[future.key]] = future.result()
        except (TimeoutError, DaskTimeout):
            raise TaskTimeoutError(self.timeout) from None
        return [results[i] for i in range(len(futures))]


class DaskSubmitExecutor(_DaskExecutor):
    """``Client.submit`` for every task, collected with ``as_completed``."""

    name = "dask_submit"
    summary = "Dask Client.submit(pure=False) + as_completed on a cluster, fail fast"

    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """Submit every task to the pinned workers; take results as they complete."""
        connection = self.connection
        args = connection.call_args(common)
        client, options = connection.client, connection.options()
        futures = [client.submit(fn, *args, item, **options) for item in items]
        return self._gather(futures)


class DaskMapExecutor(_DaskExecutor):
    """``Client.map`` over the tasks, the shared arguments repeated for every call."""

    name = "dask_map"
    summary = "Dask Client.map(pure=False) on a cluster: one future per task, in task order"

    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """Map over the items; each shared argument is a constant iterable beside them."""
        connection = self.connection
        args = connection.call_args(common)
        columns = constant_columns(args, len(items))
        futures = connection.client.map(fn, *columns, list(items), **connection.options())
        return self._gather(futures)

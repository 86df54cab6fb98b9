"""Dask workers on a Dask cluster, through a ``distributed.Client``.

Two APIs: ``client`` for Dask's own strategies (``Client.submit``, ``Client.map``), and
``futures``, a ``concurrent.futures.Executor`` over the same client for the stdlib
strategies. Every call is submitted with ``pure=False``: identical calls would otherwise be
computed once and shared (Dask assumes pure functions, keyed by their arguments). A run on
fewer workers than the cluster has is pinned to its first ``workers``. ``shared`` data
passing scatters the arrays to every worker once (``Client.scatter(broadcast=True)``),
``task`` sends them with every task; Dask has no per-worker initializer, so the inner
thread limit travels with every task too.

The module is also the preload of foldrace's embedded ``LocalCluster``: its
:func:`dask_setup` stops the HTTP server that every Dask scheduler and worker starts, and
has each worker ignore SIGINT.
"""

from __future__ import annotations

import concurrent.futures as cf
import signal
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from foldrace.executors.backends.base import Backend
from foldrace.executors.inner_threads import ThreadLimited

__all__ = ["DaskBackend", "DaskFutures", "dask_setup"]


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


class DaskFutures(cf.Executor):
    """A ``concurrent.futures.Executor`` on a Dask client: stdlib futures for Dask's.

    Each ``submit`` goes to ``client.submit`` and returns a ``concurrent.futures.Future``
    that completes with the Dask future, so ``as_completed``, ``wait`` and the inherited
    ``map`` work as with the standard executors. (``client.get_executor()`` returns Dask
    futures, which the standard functions cannot wait on.)
    """

    def __init__(self, submit: Callable[..., Any]) -> None:
        self._submit = submit
        self.submitted: list[Any] = []
        """The Dask futures, for cancelling."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        """Submit ``fn(*args, **kwargs)`` to the cluster; a stdlib future of its result."""
        future: cf.Future[Any] = cf.Future()
        future.set_running_or_notify_cancel()
        remote = self._submit(fn, *args, **kwargs)
        self.submitted.append(remote)

        def copy(done: Any) -> None:
            try:
                future.set_result(done.result())
            except BaseException as exc:
                future.set_exception(exc)

        remote.add_done_callback(copy)
        return future


class DaskBackend(Backend):
    """Dask workers of the cluster whose scheduler is at :attr:`RunOptions.address`."""

    kind = "dask"
    apis = frozenset({"client", "futures", "joblib"})
    data_modes = ("task", "shared")
    library = "distributed"
    on_cluster = True

    def _connect(self) -> Any:
        distributed = self.import_library()
        assert distributed is not None  # library is set
        self._close = self._disconnect
        self.client = client = distributed.Client(self.options.address, timeout="30s")
        self.submitted: list[Any] = []
        known = sorted(client.scheduler_info(n_workers=-1)["workers"])
        workers = self.options.workers
        if len(known) < workers:
            raise RuntimeError(
                f"the Dask cluster at {self.options.address} has {len(known)} workers, "
                f"fewer than the {workers} asked for"
            )
        # the whole cluster: not pinned (a worker that dies and comes back gets a new
        # address, which a pinned task would wait for forever)
        pinned = known[:workers] if len(known) > workers else None
        self.keywords: dict[str, Any] = {"pure": False}
        if pinned is not None:
            self.keywords |= {"workers": pinned, "allow_other_workers": False}
        self.scattered = self.common
        if self.spec.data_passing == "shared":
            self.scattered = tuple(
                client.scatter(v, broadcast=True, workers=pinned)
                if isinstance(v, np.ndarray)
                else v
                for v in self.common
            )
        return client

    def open_client(self) -> Any:
        """The client, its ``submit`` and ``map`` impure and pinned to the chosen workers."""
        client = self._connect()
        return _Submitting(client, self.keywords, self.submitted)

    def open_futures(self) -> DaskFutures:
        """A :class:`DaskFutures` executor on the cluster."""
        client = self._connect()
        executor = DaskFutures(partial(client.submit, **self.keywords))
        self.submitted = executor.submitted
        return executor

    def open_joblib(self) -> Any:
        """A ``joblib.Parallel`` on joblib's Dask backend, over this client.

        ``parallel_config(backend="dask")`` is how a scikit-learn user sends ``n_jobs``
        work to a Dask cluster. ``shared`` data passing becomes joblib's own ``scatter=``
        (the arrays sent to every worker once); runs on fewer workers than the cluster has
        are pinned to the first ones, as for the other strategies.
        """
        from joblib import Parallel, delayed, parallel_config

        client = self._connect()
        arrays = [v for v in self.common if isinstance(v, np.ndarray)]
        scatter = arrays if self.spec.data_passing == "shared" else None
        pinned = {k: v for k, v in self.keywords.items() if k != "pure"}
        with parallel_config(backend="dask", client=client, scatter=scatter, **pinned):
            parallel = Parallel(n_jobs=self.options.workers)
        self._parallel = parallel.__enter__()
        self._close = self._close_joblib
        parallel(delayed(_noop)() for _ in range(self.options.workers))
        self.for_runs(parallel)
        return parallel

    def _close_joblib(self, abort: bool, deadline: float | None) -> None:
        try:
            self._parallel.__exit__(None, None, None)
        finally:
            self._disconnect(abort, deadline)

    def task_call(self, fn: Callable[..., Any]) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        """``fn`` and the shared arguments: the values, or the futures of scattered ones
        (joblib scatters its own). With a ``blas_threads`` limit, each task sets it while it
        runs; with none, tasks keep the workers' own setting (a Dask nanny starts its
        worker with one thread: ``distributed.nanny.pre-spawn-environ``)."""
        threads = self.options.blas_threads
        if threads is not None:
            fn = ThreadLimited(threads, fn)
        return fn, self.common if self.api == "joblib" else self.scattered

    def _disconnect(self, abort: bool, deadline: float | None) -> None:
        client = getattr(self, "client", None)
        if client is None:
            return
        try:
            if abort:
                client.cancel(self.submitted, force=True)
        finally:
            client.close()


def _noop() -> None:
    """A start-up task that does nothing."""


class _Submitting:
    """A client's ``submit`` and ``map`` with fixed keywords, recording what they submit."""

    def __init__(self, client: Any, keywords: dict[str, Any], submitted: list[Any]) -> None:
        self._client = client
        self._keywords = keywords
        self._submitted = submitted

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        future = self._client.submit(fn, *args, **self._keywords)
        self._submitted.append(future)
        return future

    def map(self, fn: Callable[..., Any], *iterables: Any) -> list[Any]:
        futures = self._client.map(fn, *iterables, **self._keywords)
        self._submitted.extend(futures)
        return list(futures)

"""Clusters for the distributed pools: a Dask scheduler with workers, or a Ray instance.

With no address, foldrace starts one itself, on 127.0.0.1 only, with dashboards off:
a Dask ``LocalCluster`` of single-threaded worker processes, or a local Ray instance. It
stops it afterwards. With an address (``tcp://HOST:PORT`` for Dask, ``HOST:PORT`` for
Ray), it joins that cluster and leaves it running. Either way the start (or the joining)
is timed apart from the race.

Dask and Ray are optional: ``pip install "foldrace[dask]"`` or ``"foldrace[ray]"``.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from foldrace.errors import InputError

__all__ = ["CLUSTER_KINDS", "Cluster", "import_extra", "open_cluster"]

CLUSTER_KINDS = {"dask": "distributed", "ray": "ray"}
"""Pool kinds that run on a cluster, and the module each needs."""


def import_extra(kind: str) -> ModuleType:
    """Import the module behind a cluster pool kind, or say which extra installs it.

    Raises
    ------
    InputError
        If the module is not installed; the message names the extra.
    """
    module = CLUSTER_KINDS[kind]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(
            f'{kind} executors need the {module!r} package: pip install "foldrace[{kind}]"'
        ) from None


@dataclass
class Cluster:
    """A running cluster that executors of one pool kind connect to.

    Attributes
    ----------
    kind : {"dask", "ray"}
    address : str
        Where executors connect: the Dask scheduler's address, or the Ray GCS address.
    embedded : bool
        True if foldrace started it (and will stop it).
    start_s : float
        Seconds it took to start it, or to join it.
    workers : int
        Worker slots it offers: Dask workers, or Ray CPUs.
    """

    kind: str
    address: str
    embedded: bool
    start_s: float
    workers: int
    _handle: Any = field(default=None, repr=False)

    def describe(self) -> dict[str, Any]:
        """The cluster as a plain dict, for results files."""
        return {
            "kind": self.kind,
            "address": self.address,
            "embedded": self.embedded,
            "start_s": self.start_s,
            "workers": self.workers,
        }


@contextlib.contextmanager
def open_cluster(kind: str, workers: int, address: str | None = None) -> Iterator[Cluster]:
    """Start (or join) a cluster for ``kind`` executors; stop it afterwards if started here.

    Parameters
    ----------
    kind : {"dask", "ray"}
    workers : int
        Worker slots to start an embedded cluster with (ignored when joining).
    address : str, optional
        An existing cluster to join instead.

    Raises
    ------
    InputError
        If the extra is missing, or the cluster at ``address`` cannot be reached.
    """
    import_extra(kind)
    opener = _open_dask if kind == "dask" else _open_ray
    with opener(workers, address) as cluster:
        yield cluster


@contextlib.contextmanager
def _open_dask(workers: int, address: str | None) -> Iterator[Cluster]:
    from distributed import Client, LocalCluster

    started = time.perf_counter()
    if address is None:
        local = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            worker_dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        try:
            yield Cluster(
                "dask", local.scheduler_address, True, time.perf_counter() - started, workers, local
            )
        finally:
            local.close()
        return
    try:
        client = Client(address, timeout="10s")
    except OSError as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        count = len(client.scheduler_info(n_workers=-1)["workers"])
    finally:
        client.close()
    yield Cluster("dask", address, False, time.perf_counter() - started, count)


@contextlib.contextmanager
def _open_ray(workers: int, address: str | None) -> Iterator[Cluster]:
    import ray

    if ray.is_initialized():
        raise InputError("a Ray instance is already connected in this process; shut it down first")
    started = time.perf_counter()
    options: dict[str, Any] = {
        "include_dashboard": False,
        "logging_level": logging.ERROR,
        "log_to_driver": False,
    }
    try:
        if address is None:
            context = ray.init(address="local", num_cpus=workers, **options)
        else:
            context = ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = "start a local Ray instance" if address is None else f"reach Ray at {address}"
        raise InputError(f"cannot {where}: {exc}") from None
    try:
        cpus = int(ray.cluster_resources().get("CPU", 0))
        gcs = context.address_info.get("gcs_address") or address or "local"
        yield Cluster("ray", gcs, address is None, time.perf_counter() - started, cpus)
    finally:
        ray.shutdown()

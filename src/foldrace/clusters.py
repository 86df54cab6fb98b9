"""Clusters for the distributed pools: a Dask scheduler with workers, or a Ray instance.

With no address, foldrace starts one itself and stops it afterwards: a Dask
``LocalCluster`` of single-threaded worker processes, or a local Ray instance. Each
listens on 127.0.0.1 only: the Dask scheduler, nannies and workers, with no HTTP server
(Dask starts one on each, dashboard or not; foldrace stops them as they start), and every
server of the Ray instance (GCS, raylet, agents, workers, driver), its node address kept
at 127.0.0.1. Should a Ray process listen elsewhere anyway (another Ray release), a
warning names it and says whether Ray's token authentication is on. With an address
(``tcp://HOST:PORT`` for Dask, ``HOST:PORT`` for Ray), foldrace first checks that
something accepts connections there, joins that cluster and leaves it running; an address
where nothing answers is an input error within seconds. Either way the start (or the
joining) is timed apart from the race.

Starting and stopping are not interrupted halfway: a stop signal (Ctrl-C, and SIGTERM and
SIGHUP on the command line; see :mod:`foldrace.interrupts`) is held until the start or the
stop is done, then raised, and a cluster that was starting is stopped first. Its worker
processes ignore SIGINT (a Ctrl-C in a terminal reaches the whole process group): the
process that started the cluster stops them, and kills Ray's processes still running
after ``ray.shutdown()``.

Dask and Ray are optional: ``pip install "foldrace[dask]"`` or ``"foldrace[ray]"``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import shlex
import signal
import socket
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from foldrace.errors import InputError
from foldrace.executors.backends import BACKENDS
from foldrace.interrupts import deferred

__all__ = ["Cluster", "import_extra", "open_cluster"]

PROBE_TIMEOUT_S = 5.0
"""Seconds to wait for a TCP connection to a cluster's address before calling it unreachable."""

RAY_JOIN_LIMITS = {
    "RAY_gcs_server_port_wait_time_s": "1",
    "RAY_gcs_rpc_server_connect_timeout_s": "2",
    "RAY_py_gcs_connect_timeout_s": "5",
}
"""Ray settings that bound ``ray.init(address=...)`` to about 10 s when no GCS answers.

Joining tries once instead of 20 times, and waits 2 s for each connection and 5 s for the
cluster's ID (the defaults: 5 s and 30 s), so that a port that accepts connections but is
not a Ray GCS is an error within seconds; a variable already set is left as it is.
"""

STOP_WAIT_S = 5.0
"""Seconds Ray's processes get to exit after ``ray.shutdown()`` before they are killed
(an embedded Dask cluster gets twice that to close)."""


def import_extra(kind: str) -> ModuleType:
    """Import the library behind a cluster backend, or say which extra installs it.

    Raises
    ------
    InputError
        If it is not installed; the message names the extra.
    """
    module = BACKENDS[kind].import_library()
    assert module is not None  # every cluster backend names its library
    return module


@dataclass
class Cluster:
    """A running cluster that executors of one backend connect to.

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
    KeyboardInterrupt
        When interrupted; a cluster started here is stopped first.
    """
    import_extra(kind)
    opener = _open_dask if kind == "dask" else _open_ray
    with opener(workers, address) as cluster:
        yield cluster


def _host_port(address: str, schemes: tuple[str, ...]) -> tuple[str, int] | None:
    """``(host, port)`` of ``[SCHEME://]HOST:PORT`` with a scheme from ``schemes``, else None."""
    scheme, sep, rest = address.rpartition("://")
    if sep and scheme not in schemes:
        return None
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]") or "127.0.0.1", int(port)


def _unreachable(address: str, schemes: tuple[str, ...]) -> str | None:
    """Why nothing accepts a TCP connection at ``address``, or None if something does.

    Addresses that are not ``HOST:PORT`` over TCP are not checked (None).
    """
    where = _host_port(address, schemes)
    if where is None:
        return None
    try:
        with socket.create_connection(where, timeout=PROBE_TIMEOUT_S):
            return None
    except ConnectionRefusedError:
        return "connection refused (nothing listens there)"
    except TimeoutError:
        return f"no answer within {PROBE_TIMEOUT_S:g} s"
    except socket.gaierror:
        return f"unknown host {where[0]!r}"
    except OSError as exc:
        return exc.strerror or str(exc)


@contextlib.contextmanager
def _quiet(*loggers: str) -> Iterator[None]:
    """Silence these loggers (tracebacks of an interrupted close) during the block."""
    saved = {name: logging.getLogger(name).level for name in loggers}
    for name in saved:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


_DASK_LOGGERS = ("distributed", "tornado", "asyncio")
"""Loggers silenced while an embedded Dask cluster closes."""

_DASK_PRELOAD = "foldrace.executors.backends.dask_workers"
"""The preload module whose ``dask_setup`` stops a Dask server's HTTP server."""


@contextlib.contextmanager
def _spawned_ignoring_sigint() -> Iterator[None]:
    """Start the processes that multiprocessing spawns in the block with SIGINT ignored.

    A Ctrl-C in a terminal goes to the whole process group: a Dask worker starting then
    would die of it with a traceback (Ray's servers block SIGINT for the same reason).
    Python keeps an inherited ``SIG_IGN``, and spawn runs the interpreter set with
    ``multiprocessing.set_executable``: here a ``/bin/sh`` script that ignores SIGINT and
    runs this Python. Outside POSIX systems nothing changes.
    """
    import multiprocessing
    from multiprocessing import spawn

    if os.name != "posix" or not os.path.exists("/bin/sh"):
        yield
        return
    python = spawn.get_executable()
    with tempfile.TemporaryDirectory(prefix="foldrace-") as folder:
        wrapper = Path(folder, "python")
        wrapper.write_text(
            f"#!/bin/sh\ntrap '' INT\nexec {shlex.quote(os.fsdecode(python))} \"$@\"\n"
        )
        wrapper.chmod(0o700)
        multiprocessing.set_executable(str(wrapper))
        try:
            yield
        finally:
            multiprocessing.set_executable(python)


@contextlib.contextmanager
def _open_dask(workers: int, address: str | None) -> Iterator[Cluster]:
    import dask
    from distributed import Client, LocalCluster

    started = time.perf_counter()
    if address is None:
        local = None
        try:
            with (
                deferred(),
                _spawned_ignoring_sigint(),
                dask.config.set(
                    {"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}
                ),
            ):
                local = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    worker_dashboard_address=None,
                    silence_logs=logging.ERROR,
                    scheduler_kwargs={
                        "dashboard_address": "127.0.0.1:0",
                        "preload": [_DASK_PRELOAD],
                    },
                    preload=[_DASK_PRELOAD],
                )
            # a Ctrl-C held while it started is raised above; the finally stops it
            yield Cluster(
                "dask", local.scheduler_address, True, time.perf_counter() - started, workers, local
            )
        finally:
            if local is not None:
                with (
                    deferred(),
                    _quiet(*_DASK_LOGGERS),
                    contextlib.suppress(TimeoutError),
                ):
                    local.close(timeout=STOP_WAIT_S * 2)
        return
    reason = _unreachable(address, ("tcp", "tls"))
    if reason is not None:
        raise InputError(f"cannot reach the Dask scheduler at {address}: {reason}")
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
def _keeping_sigterm_handler(ray: ModuleType) -> Iterator[None]:
    """Keep this process's SIGTERM handler: ``ray.init`` replaces it with ``sys.exit``."""
    utils = ray._private.utils
    replace = getattr(utils, "set_sigterm_handler", None)
    main = threading.current_thread() is threading.main_thread()
    handler = signal.getsignal(signal.SIGTERM) if main else None
    if replace is not None:
        utils.set_sigterm_handler = lambda handler: None
    try:
        yield
    finally:
        if replace is not None:
            utils.set_sigterm_handler = replace
        if handler is not None and signal.getsignal(signal.SIGTERM) is not handler:
            signal.signal(signal.SIGTERM, handler)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set these environment variables (unless already set) during the block."""
    added = {k: v for k, v in values.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _refresh_ray_config() -> None:
    """Make this process's Ray read its ``RAY_*`` settings again (best effort)."""
    with contextlib.suppress(ImportError, AttributeError):
        from ray._raylet import Config  # type: ignore[attr-defined]  # not in ray's stub

        Config.initialize("")


@contextlib.contextmanager
def _ray_on_loopback(ray: ModuleType) -> Iterator[None]:
    """Make a Ray instance started in the block take 127.0.0.1 as its node address.

    ``ray.init`` swaps 127.0.0.1 for the machine's outward address, on which Ray's
    servers then listen on every interface, unless Ray is told multi-node clusters are
    off (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, read when Ray is imported): then it
    keeps 127.0.0.1, and its servers listen there only.
    """
    constants = ray._private.ray_constants
    saved = getattr(constants, "ENABLE_RAY_CLUSTER", None)
    constants.ENABLE_RAY_CLUSTER = False
    try:
        with _environment({"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}):
            yield
    finally:
        constants.ENABLE_RAY_CLUSTER = saved


def _descendants() -> set[Any]:
    """This process's descendants, as ``psutil.Process`` objects."""
    import psutil  # Ray ships it

    with contextlib.suppress(psutil.Error):
        return set(psutil.Process().children(recursive=True))
    return set()


def _ray_listeners(processes: set[Any]) -> list[str]:
    """``NAME ADDRESS:PORT`` for each of these processes' TCP listeners off loopback."""
    import psutil

    exposed = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            name = process.name()
            listing = getattr(process, "net_connections", None) or process.connections
            for conn in listing(kind="inet"):
                if conn.status != psutil.CONN_LISTEN:
                    continue
                ip = ipaddress.ip_address(conn.laddr.ip.split("%")[0])
                ip = getattr(ip, "ipv4_mapped", None) or ip
                if not ip.is_loopback:
                    exposed.append(f"{name} {conn.laddr.ip or '*'}:{conn.laddr.port}")
    return sorted(exposed)


def _ray_token_auth() -> bool:
    """True if Ray's token authentication is on in this process (it is for new instances)."""
    try:
        from ray._private.authentication.authentication_utils import is_token_auth_enabled
    except ImportError:
        return False
    return bool(is_token_auth_enabled())


def _stop_ray(ray: ModuleType, started: set[Any]) -> None:
    """``ray.shutdown()``, then kill what is left of the processes ``ray.init`` started."""
    import psutil

    processes = set(started)
    for process in started:
        with contextlib.suppress(psutil.Error):
            processes.update(process.children(recursive=True))
    try:
        ray.shutdown()
    finally:
        _, alive = psutil.wait_procs(processes, timeout=STOP_WAIT_S)
        for process in alive:
            with contextlib.suppress(psutil.Error):
                process.kill()
        psutil.wait_procs(alive, timeout=STOP_WAIT_S)


@contextlib.contextmanager
def _open_ray(workers: int, address: str | None) -> Iterator[Cluster]:
    import ray

    if ray.is_initialized():
        raise InputError("a Ray instance is already connected in this process; shut it down first")
    if address is not None and (reason := _unreachable(address, ("ray",))) is not None:
        raise InputError(f"cannot reach Ray at {address}: {reason}")
    started = time.perf_counter()
    options: dict[str, Any] = {
        "include_dashboard": False,
        "logging_level": logging.ERROR,
        "log_to_driver": False,
    }
    before = _descendants()
    spawned: set[Any] = set()
    try:
        with deferred(), _keeping_sigterm_handler(ray):
            try:
                if address is None:
                    with _ray_on_loopback(ray):
                        context = ray.init(
                            address="local",
                            num_cpus=workers,
                            _node_ip_address="127.0.0.1",
                            **options,
                        )
                else:
                    with _environment(RAY_JOIN_LIMITS):
                        _refresh_ray_config()
                        context = ray.init(address=address, **options)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = (
                    "start a local Ray instance" if address is None else f"reach Ray at {address}"
                )
                raise InputError(f"cannot {where}: {str(exc).splitlines()[0]}") from None
            finally:
                spawned = _descendants() - before
        # a Ctrl-C held while it started is raised above; the finally stops it
        if address is None and (exposed := _ray_listeners(spawned)):
            auth = "on" if _ray_token_auth() else "OFF"
            warnings.warn(
                f"the local Ray instance listens beyond 127.0.0.1 ({', '.join(exposed)}); "
                f"Ray's token authentication is {auth}",
                RuntimeWarning,
                stacklevel=3,
            )
        cpus = int(ray.cluster_resources().get("CPU", 0))
        # A Ray Client address (ray://) gives a ClientContext, which has no address_info.
        info: dict[str, str | None] = getattr(context, "address_info", {})
        gcs = info.get("gcs_address") or address or "local"
        yield Cluster("ray", gcs, address is None, time.perf_counter() - started, cpus)
    finally:
        with deferred():
            _stop_ray(ray, spawned)

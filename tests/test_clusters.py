"""Joining a cluster, checked without one: a stand-in ``ray`` module answers ``ray.init``."""

from __future__ import annotations

import socket
import sys
import types

from conftest import extra
from foldrace import clusters

extra("psutil", "ray")  # foldrace's Ray clean-up uses psutil, which Ray ships


class _ClientContext:
    """What ``ray.init("ray://...")`` returns: unlike a RayContext, no ``address_info``."""


def test_a_ray_client_address_is_joined_and_reported(monkeypatch):
    calls = []
    ray = types.ModuleType("ray")
    ray.is_initialized = lambda: False
    ray.init = lambda address=None, **options: calls.append(address) or _ClientContext()
    ray.cluster_resources = lambda: {"CPU": 4.0}
    ray.shutdown = lambda: calls.append("shutdown")
    ray._private = types.SimpleNamespace(utils=types.SimpleNamespace())
    monkeypatch.setitem(sys.modules, "ray", ray)
    monkeypatch.setattr(clusters, "_refresh_ray_config", lambda: None)
    with socket.socket() as server:  # the address is probed before ray.init
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"ray://127.0.0.1:{server.getsockname()[1]}"
        with clusters.open_cluster("ray", 1, address) as cluster:
            assert calls == [address]
    assert (cluster.address, cluster.workers, cluster.embedded) == (address, 4, False)
    assert calls == [address, "shutdown"]

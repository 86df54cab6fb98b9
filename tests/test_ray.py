"""Ray, for real: a local instance, and a head node joined by address.

These run in a fresh network namespace (``unshare -n``, root needed), so that nothing Ray
starts can be reached from outside it: foldrace keeps its local instance on 127.0.0.1,
but a head node started by ``ray start`` listens on every interface (Ray 2.60). For the
local instance the namespace also gets an outward address (10.254.0.1, on loopback, with
the default route), as a machine on a network has: the address Ray would otherwise take
as its node's and listen beside. ``.ci/run`` sets ``FOLDRACE_REQUIRE_CLUSTERS=1``, which
turns a missing Ray or a missing ``unshare`` into a failure instead of a skip.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("ray_race.py")
REQUIRED = os.environ.get("FOLDRACE_REQUIRE_CLUSTERS") == "1"


def _namespace_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    done = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return done.returncode == 0


def _ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


if not (_namespace_available() and _ray_available()):
    if REQUIRED:
        raise RuntimeError("Ray tests need ray (foldrace[ray]) and 'unshare -n' (root)")
    pytest.skip("needs ray and a network namespace (unshare -n)", allow_module_level=True)


OUTWARD = "10.254.0.1"
"""The namespace's stand-in for a machine's network address."""


def _race_in_namespace(mode: str, *args: str, outward: bool = True) -> dict:
    """Run ``ray_race.py MODE ARGS`` in a loopback-only namespace; its JSON outcome."""
    setup = "ip link set lo up"
    if outward:
        setup += f" && ip addr add {OUTWARD}/32 dev lo && ip route add default dev lo src {OUTWARD}"
    command = f"{setup} && exec {sys.executable} {SCRIPT} {mode} {' '.join(args)}"
    # A head node started by `ray start` and a driver joining it did not agree on Ray's
    # token here ("InvalidAuthToken"); inside a loopback-only namespace, the token adds
    # nothing, so this test turns it off for that one case.
    env = os.environ | ({"RAY_AUTH_MODE": "disabled"} if mode == "head" else {})
    done = subprocess.run(
        ["unshare", "-n", "sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_local_ray_instance_gives_the_serial_scores():
    outcome = _race_in_namespace("local")
    assert outcome["identical"] is True
    assert outcome["cluster"]["embedded"] is True
    assert outcome["cluster"]["address"].startswith("127.0.0.1:")
    assert outcome["cluster"]["start_s"] > 0
    assert outcome["sigterm_handler_kept"] is True  # ray.init replaces it otherwise
    assert outcome["labels"] == sorted(
        ["serial", "joblib/ray"]  # Ray's joblib backend: data with every batch only
        + [f"{s}/ray{m}" for s in ("map", "apply_async", "starmap") for m in ("", "/shared")]
    )
    assert outcome["joblib_pids"]  # joblib's tasks ran in Ray's actors, not in this process


def test_a_head_node_is_joined_by_address_and_left_running():
    outcome = _race_in_namespace("head", outward=False)
    assert outcome["identical"] is True
    assert outcome["cluster"]["embedded"] is False
    assert outcome["head_alive"] is True


def _is_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback


def test_the_local_instance_listens_on_loopback_only():
    outcome = _race_in_namespace("listen")
    assert outcome["outward"] == OUTWARD  # an address Ray could have taken
    assert outcome["address"].startswith("127.0.0.1:")
    names = {name for name, _, _ in outcome["listeners"]}
    assert {"gcs_server", "raylet", "ray::PoolActor"} <= names, outcome
    exposed = [f"{n} {ip}:{port}" for n, ip, port in outcome["listeners"] if not _is_loopback(ip)]
    if exposed:  # another Ray release: then foldrace says so, and the token must be on
        assert outcome["token_auth"] is True, outcome
        assert any("listens beyond 127.0.0.1" in w for w in outcome["warnings"]), outcome
    else:
        assert outcome["warnings"] == [], outcome


@pytest.mark.parametrize("delay", [0.5, 1.5, 2.5])
def test_ctrl_c_while_the_local_instance_starts_exits_130_in_one_line(delay):
    outcome = _race_in_namespace("interrupt", str(delay))
    assert outcome["returncode"] == 130, outcome  # not a crash (-11)
    assert len(outcome["stderr"]) == 1, outcome
    assert "interrupted" in outcome["stderr"][0]
    assert outcome["left"] == [], outcome  # no agent, worker or server left behind


def test_an_unreachable_ray_address_is_one_line_on_the_command_line(tmp_path):
    with socket.socket() as sock:  # a port nothing listens on: Ray is never started
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    command = [sys.executable, "-m", "foldrace", "run", "--executors", "map/ray",
               "--ray-address", address, "--workers", "1", "--repeats", "1", "--quiet",
               "--no-plot", "--out", str(tmp_path)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    assert f"cannot reach Ray at {address}" in lines[0]

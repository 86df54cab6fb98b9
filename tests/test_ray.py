"""Ray, for real: a local instance, and a head node joined by address.

Ray's servers listen on every interface of the machine, whatever ``--node-ip-address``
says (measured with Ray 2.60), so these races run in a fresh network namespace that has
only loopback (``unshare -n``, root needed): nothing Ray starts can be reached from
outside it. ``.ci/run`` sets ``FOLDRACE_REQUIRE_CLUSTERS=1``, which turns a missing Ray
or a missing ``unshare`` into a failure instead of a skip.
"""

from __future__ import annotations

import json
import os
import shutil
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


def _race_in_namespace(mode: str) -> dict:
    command = f"ip link set lo up && exec {sys.executable} {SCRIPT} {mode}"
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
    assert outcome["labels"] == sorted(
        ["serial"]
        + [f"{s}/ray{m}" for s in ("map", "apply_async", "starmap") for m in ("", "/shared")]
    )


def test_a_head_node_is_joined_by_address_and_left_running():
    outcome = _race_in_namespace("head")
    assert outcome["identical"] is True
    assert outcome["cluster"]["embedded"] is False
    assert outcome["head_alive"] is True

"""Race on Ray from inside a network namespace that has only loopback (see test_ray.py).

Run: ``python tests/ray_race.py local`` (foldrace starts a local Ray instance) or
``python tests/ray_race.py head`` (a head node started with ``ray start --head`` on
127.0.0.1, joined by address and left running until this script stops it). Prints the
outcome as one line of JSON.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from foldrace import default_workload, race

LABELS = ["map/ray", "apply_async/ray", "starmap/ray"]


def _race(address: str | None) -> dict:
    result = race(
        default_workload(n_samples=300),
        LABELS,
        [2],
        repeats=1,
        warmup=0,
        data_passing=["task", "shared"],
        ray_address=address,
    )
    return {
        "identical": result.check().identical,
        "cluster": result.meta["clusters"]["ray"],
        "labels": sorted(set(result.timings["executor"])),
    }


READY = """
import sys, ray
ray.init(address=sys.argv[1], include_dashboard=False, log_to_driver=False)
sys.exit(0 if ray.cluster_resources().get("CPU", 0) >= 2 else 1)
"""


def _wait_for_head(address: str, guard: float = 120.0) -> None:
    """Wait until a driver can join the head node and sees its 2 CPUs (a hang guard only)."""
    deadline = time.monotonic() + guard
    command = [sys.executable, "-c", READY, address]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    while subprocess.run(command, **quiet).returncode != 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Ray head node at {address} did not come up")
        time.sleep(0.5)


def main(mode: str) -> None:
    if mode == "local":
        print(json.dumps(_race(None)))
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ray = str(Path(sys.executable).with_name("ray"))
    head = subprocess.Popen(
        [ray, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
         "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats", "--block"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_head(f"127.0.0.1:{port}")
        outcome = _race(f"127.0.0.1:{port}")
        outcome["head_alive"] = head.poll() is None  # joined, not stopped by foldrace
        print(json.dumps(outcome))
    finally:
        head.terminate()
        head.wait(timeout=60)


if __name__ == "__main__":
    main(sys.argv[1])

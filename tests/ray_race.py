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
        time.sleep(8)  # the head node's GCS and raylet come up
        outcome = _race(f"127.0.0.1:{port}")
        outcome["head_alive"] = head.poll() is None  # joined, not stopped by foldrace
        print(json.dumps(outcome))
    finally:
        head.terminate()
        head.wait(timeout=60)


if __name__ == "__main__":
    main(sys.argv[1])

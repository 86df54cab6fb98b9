"""Ray, from inside a network namespace that has only loopback (see test_ray.py).

Run ``python tests/ray_race.py MODE``; each mode prints its outcome as one line of JSON:

- ``local``: race on a local Ray instance that foldrace starts;
- ``head``: race on a head node started with ``ray start --head`` on 127.0.0.1, joined by
  address and left running until this script stops it;
- ``listen``: start the local instance and a Ray pool, and list the TCP ports that this
  process and its descendants listen on, with any warning foldrace gave;
- ``interrupt DELAY``: Ctrl-C ``foldrace run --executors map/ray`` DELAY seconds after
  its GCS server starts, and report how it ended.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from foldrace import default_workload, race

LABELS = ["map/ray", "apply_async/ray", "starmap/ray", "joblib/ray"]


def session_processes(sid: int) -> list[tuple[int, str]]:
    """``(pid, name)`` of every process in session ``sid`` (Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
        if int(fields.split()[3]) == sid:  # state ppid pgrp session ...
            found.append((int(stat.parent.name), name))
    return found


def interrupt_while_starting(command: list[str], delay: float, started: str) -> dict:
    """Run ``command`` in a new session and Ctrl-C it while its cluster starts.

    SIGINT goes to the whole process group, as from a terminal, ``delay`` seconds after a
    process named ``started`` first shows in the session. Returns the exit code, the
    non-empty lines of stderr, and the processes of the session still there afterwards
    (given a few seconds to exit). Also used by test_distributed.py.
    """
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while run.poll() is None and time.monotonic() < deadline:
            if any(pid != run.pid and name == started for pid, name in session_processes(run.pid)):
                break
            time.sleep(0.02)
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):  # already gone: reported below
            os.killpg(run.pid, signal.SIGINT)
        _, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    left = session_processes(run.pid)
    for _ in range(50):
        if not left:
            break
        time.sleep(0.1)
        left = session_processes(run.pid)
    lines = [line for line in err.splitlines() if line.strip()]
    return {"returncode": run.returncode, "stderr": lines, "left": left}


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
    tasks = result.tasks[result.tasks["executor"] == "joblib/ray"]
    return {
        "identical": result.check().identical,
        "joblib_pids": sorted(set(tasks["pid"]) - {os.getpid()}),
        "cluster": result.meta["clusters"]["ray"],
        "labels": sorted(set(result.timings["executor"])),
    }


def _token_auth() -> bool:
    """Whether Ray's token authentication is on (releases before 2.5x have none)."""
    try:
        from ray._private.authentication.authentication_utils import is_token_auth_enabled
    except ImportError:
        return False
    return bool(is_token_auth_enabled())


def _listening() -> dict:
    """Start the local instance and a pool; list listeners while they run."""
    import psutil
    from ray.util.multiprocessing import Pool

    from foldrace.clusters import open_cluster

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with open_cluster("ray", 1) as cluster, Pool(1) as pool:
            pool.map(abs, [-1])  # an actor: a Ray worker process that listens too
            listeners = []
            me = psutil.Process()
            for process in [me, *me.children(recursive=True)]:
                for conn in process.net_connections(kind="inet"):
                    if conn.status == psutil.CONN_LISTEN:
                        listeners.append([process.name(), conn.laddr.ip, conn.laddr.port])
            auth = _token_auth()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("8.8.8.8", 53))  # no packet sent: the address a node would take
        outward = probe.getsockname()[0]
    return {
        "address": cluster.address,
        "listeners": listeners,
        "warnings": [str(w.message) for w in caught],
        "token_auth": bool(auth),
        "outward": outward,
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


def main(mode: str, *args: str) -> None:
    if mode == "local":
        handler = signal.signal(signal.SIGTERM, signal.default_int_handler)
        outcome = _race(None)
        outcome["sigterm_handler_kept"] = (
            signal.getsignal(signal.SIGTERM) is signal.default_int_handler
        )
        signal.signal(signal.SIGTERM, handler)
        print(json.dumps(outcome))
        return
    if mode == "listen":
        print(json.dumps(_listening()))
        return
    if mode == "interrupt":
        with tempfile.TemporaryDirectory() as out:
            command = [sys.executable, "-m", "foldrace", "run", "--executors", "map/ray",
                       "--workers", "1", "--repeats", "1", "--quiet", "--no-plot",
                       "--out", out]  # fmt: skip
            print(json.dumps(interrupt_while_starting(command, float(args[0]), "gcs_server")))
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
    main(*sys.argv[1:])

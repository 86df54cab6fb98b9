"""Stress the stop signals: many ``foldrace run`` programs, each stopped as a pool starts.

Each program is started in a session of its own with ``PYTHONFAULTHANDLER=1`` (inherited by
its workers), runs a short race, and is sent a stop signal right after the worker processes
of a parallel cell appear, plus a random delay of up to ``--spread`` seconds: the window in
which a pool is being started, which is where stop signals have hung before. The scenarios
rotate through SIGTERM to the program, SIGTERM to its whole process group, one Ctrl-C and
two Ctrl-C 50 ms apart. A program that has not ended after ``--guard`` seconds is a hang:
every process of its session is sent SIGABRT, so that each prints the Python stack of every
thread, and the stacks are printed with the program's stderr. ``--busy`` keeps that many
CPUs busy meanwhile (the condition under which the hang was seen).

Run from the repository root::

    python tests/stress_stop_signals.py --runs 1000 --busy 1

It prints one line per failure and a summary; the exit status is 1 if any run hung or ended
wrongly.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from conftest import child_pids, default_ctrl_c, dump_stacks, session_processes


def session_pids(sid: int) -> list[int]:
    """Processes in session ``sid``."""
    return [int(entry.split()[0]) for entry in session_processes(sid)]


SCENARIOS = ("term", "term-group", "int", "int-int")


def once(out: str, scenario: str, executor: str, spread: float, guard: float) -> str | None:
    """One program writing into ``out``, stopped; None if it ended as it should, else why."""
    command = [sys.executable, "-m", "foldrace", "run", "--progress", "--out", out]
    command += ["--executors", executor]
    command += ["--workers", "2", "--repeats", "3", "--samples", "2000"]
    env = dict(os.environ, PYTHONFAULTHANDLER="1")
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
        preexec_fn=default_ctrl_c,
    )
    err: list[str] = []
    reader = threading.Thread(
        target=lambda: err.extend(iter(lambda: process.stderr.read(1), "")), daemon=True
    )
    reader.start()
    cell = re.compile(rf"\b[1-9]\d*/\d+ \[[^\]\r\n]*\b{re.escape(executor)}, 2 workers")
    deadline = time.monotonic() + 120
    while not cell.search("".join(err)) or len(child_pids(process.pid)) < 2:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            return f"never reached a 2-worker cell; stderr:\n{''.join(err)[-2000:]}"
        time.sleep(0.005)
    time.sleep(random.uniform(0, spread))
    if scenario == "term-group":
        os.killpg(process.pid, signal.SIGTERM)
    elif scenario == "term":
        process.send_signal(signal.SIGTERM)
    else:
        process.send_signal(signal.SIGINT)
        if scenario == "int-int":
            time.sleep(0.05)
            process.send_signal(signal.SIGINT)
    expected = 143 if scenario.startswith("term") else 130
    try:
        process.wait(timeout=guard)
    except subprocess.TimeoutExpired:
        dump_stacks(process.pid)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        reader.join(timeout=5)
        return f"HANG ({scenario}); stderr with the stacks:\n{''.join(err)[-20000:]}"
    reader.join(timeout=5)
    text = "".join(err)
    if process.returncode != expected or "Traceback" in text:
        return f"exit {process.returncode} ({scenario}), expected {expected}:\n{text[-3000:]}"
    left = [pid for pid in session_pids(process.pid) if pid != process.pid]
    if left:
        time.sleep(5)  # loky's resource tracker ends soon after its pipe closes
        left = [pid for pid in session_pids(process.pid) if pid != process.pid]
        if left:
            return f"left processes behind ({scenario}): {left}"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--executors", nargs="+", default=["starmap"])
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--spread", type=float, default=0.05, help="seconds of random delay")
    parser.add_argument("--guard", type=float, default=30.0, help="seconds before a hang")
    parser.add_argument("--busy", type=int, default=0, help="CPUs to keep busy meanwhile")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    random.seed(args.seed)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    failures = 0
    started = time.monotonic()
    try:
        cases = itertools.product(args.executors, args.scenarios)
        for run, (executor, scenario) in zip(range(args.runs), itertools.cycle(cases)):
            out = tempfile.mkdtemp(prefix="foldrace-stress-")
            try:
                problem = once(out, scenario, executor, args.spread, args.guard)
            finally:
                shutil.rmtree(out, ignore_errors=True)
            if problem is not None:
                failures += 1
                print(f"run {run} ({executor}): {problem}", flush=True)
            if (run + 1) % 50 == 0:
                minutes = (time.monotonic() - started) / 60
                print(f"{run + 1} runs, {failures} failed, {minutes:.1f} min", flush=True)
    finally:
        for process in busy:
            process.kill()
            process.wait()
    print(f"done: {args.runs} runs, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Time from a fault to foldrace's error, for every fault and every executor.

Each fault strikes at once, in the first task (fold 0) or, for executors that run tasks
side by side, in the second (fold 1) while fold 0 still runs; the healthy folds sleep 20 s
on worker processes, so an executor that waited for them would show it. Worker threads
cannot be stopped, so an aborted thread pool waits for its running tasks: there the healthy
folds sleep 1 s per 120 training rows (2 s for the fold of 240), and the figures include
the rest of that wait. The origin is the faulty fit's start, which the faulty estimators
stamp into a file (for a stalled fit, the earliest fit's start); the end is when ``race``
raises. Stop signals are timed on the command line, from the signal to the exit.

Dask's strategies run on the local cluster each race starts and stops (two single-threaded
worker processes on 127.0.0.1, each watched by a nanny that restarts it): their figures
include that cluster's shutdown, which ``race`` finishes before it raises, and a dead
worker's task is retried on the restarted workers until Dask gives up on it. Every race but
the timeout's runs with a deadline of 10 minutes, so that the fault is what ends it, not
foldrace's default deadline (a race that ends by a timeout there fails the script).

Run: ``python benchmarks/fault_detection.py [--runs 5] [--markdown docs/outputs/fault-detection.md]
[--executors LABEL ...]`` (every standard executor and Dask's strategies if none are named).
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from foldrace import RaceError, TaskTimeoutError, Workload, default_workload, race
from foldrace.executors import parse_spec, standard_specs
from foldrace.testing import CrashingClassifier, FailingClassifier, SlowClassifier, uneven_folds

DASK = ("submit/dask", "dask_submit", "dask_map", "joblib/dask")
HEALTHY = 20.0 / 120  # seconds per training sample of the healthy folds on processes
THREAD_HEALTHY = 1.0 / 120  # ... on threads, which an aborted pool waits for
TIMEOUT = 0.5
LONG = 600.0  # the deadline of the other faults' races, beyond foldrace's default (60 s)
NEVER_REPORTED = {"joblib/dask": ("worker exits (os._exit)", "worker killed (SIGKILL)")}
"""Faults that an executor's library does not report: joblib's Dask backend (joblib 1.6) sets
Dask's ``KilledWorker`` on its own future but never calls ``Parallel``'s completion callback,
which waits on until the deadline ("deadline"); now and then Dask forgets the task first and
``FutureCancelledError`` ends the race ("cancelled"). Checked once each, with a deadline of
:data:`WAIT` s."""
WAIT = 20.0
FIRST = (40, 240, 120)  # training sizes: the fault strikes the fold of 40 rows
SECOND = (240, 40, 120)


def faults(
    stamp: str, serial: bool, processes: bool, concurrent: bool
) -> dict[str, tuple[object, float | None, tuple[int, ...]]]:
    """Fault name -> (estimator, timeout, fold sizes). Only processes can die alone."""
    spare = None if serial else os.getpid()
    healthy = HEALTHY if processes or serial else THREAD_HEALTHY
    found = {
        "fit raises": (FailingClassifier(60, healthy, spare, stamp), None, FIRST),
    }
    if concurrent:
        found["fit raises in fold 1 while fold 0 runs"] = (
            FailingClassifier(60, healthy, spare, stamp),
            None,
            SECOND,
        )
    found[f"past a {TIMEOUT:g} s timeout"] = (SlowClassifier(healthy, spare, stamp), TIMEOUT, FIRST)
    if processes:
        found["worker exits (os._exit)"] = (
            CrashingClassifier(41, "exit", HEALTHY, spare, stamp),
            None,
            FIRST,
        )
        found["worker killed (SIGKILL)"] = (
            CrashingClassifier(41, "kill", HEALTHY, spare, stamp),
            None,
            FIRST,
        )
    return found


def detection_seconds(
    name: str,
    estimator: object,
    timeout: float | None,
    sizes: tuple[int, ...],
    stamp: Path,
    unreported: bool = False,
) -> float:
    """One race with one fault; seconds from the fault to the error. For a fault the library
    does not report (``unreported``): inf if the deadline ended the race, -inf if another
    error did."""
    base = default_workload(n_samples=300)
    folds = uneven_folds(300, train_sizes=sizes, test_size=20)
    workload = Workload(base.X, base.y, {"m": estimator}, folds=folds)
    stamp.write_text("")
    workers = 2 if parse_spec(name).executor_class.parallel else 1
    try:  # a generous deadline for the other faults: the fault must decide, not a deadline
        race(workload, [name], [workers], repeats=1, warmup=0, timeout=timeout or LONG)
    except RaceError as error:
        raised = time.time()
        timed_out = isinstance(error.__cause__, TaskTimeoutError)
        if timed_out != (timeout is not None) and not unreported:
            raise AssertionError(f"{name}: {error}") from error
        if unreported:
            return math.inf if timed_out else -math.inf
    else:
        raise AssertionError(f"{name} reported no fault")
    lines = [line.split() for line in stamp.read_text().splitlines()]
    faults = [float(t) for t, *mark in lines if mark == ["fault"]]  # a fit that faulted
    fault = min(faults) if faults else min(float(t) for t, *_ in lines)  # or that stalled
    return raised - fault - (timeout or 0.0)


def signal_seconds(signum: int) -> float:
    """Seconds from ``signum`` to the exit of ``foldrace run`` with a pool running."""
    with tempfile.TemporaryDirectory() as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "foldrace", "run", "--repeats", "20", "--quiet", "--out", out],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(4)
        sent = time.monotonic()
        process.send_signal(signum)
        process.wait(timeout=30)
        assert process.returncode == 128 + signum, process.returncode
        return time.monotonic() - sent


def main(argv: list[str] | None = None) -> pd.DataFrame:
    """Measure every fault on every executor; print (and optionally save) the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    parser.add_argument("--executors", nargs="+", help="labels (default: all and Dask's)")
    args = parser.parse_args(argv)
    labels = args.executors or [spec.label for spec in standard_specs()] + list(DASK)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        stamp = Path(scratch) / "stamp"
        for spec in map(parse_spec, labels):
            name, cls = spec.label, spec.executor_class
            concurrent = cls.schedule != "sequential"
            on_cluster = spec.backend_class is not None and spec.backend_class.on_cluster
            processes = spec.uses_processes or on_cluster  # a cluster's workers are processes
            found = faults(str(stamp), not cls.parallel, processes, concurrent)
            for fault, (estimator, timeout, sizes) in found.items():
                if fault in NEVER_REPORTED.get(name, ()):
                    ended = detection_seconds(name, estimator, WAIT, sizes, stamp, unreported=True)
                    rows.append((fault, name, ended))
                    continue
                times = [
                    detection_seconds(name, estimator, timeout, sizes, stamp)
                    for _ in range(args.runs)
                ]
                rows.append((fault, name, statistics.median(times) * 1000))
    stops = {
        name: statistics.median(signal_seconds(getattr(signal, name)) for _ in range(args.runs))
        for name in ("SIGINT", "SIGTERM")
    }
    table = pd.DataFrame(rows, columns=["fault", "executor", "ms"])
    order = list(dict.fromkeys(table["executor"]))
    table = table.pivot(index="executor", columns="fault", values="ms").loc[order]
    every = faults("", serial=False, processes=True, concurrent=True)  # the columns' order
    table = table[[fault for fault in every if fault in table.columns]]
    shown = table.map(
        lambda v: (
            "n/a"
            if pd.isna(v)
            else ("deadline" if v > 0 else "cancelled")
            if math.isinf(v)
            else f"{v:.0f}"
        )
    )
    lines = [
        "| executor | " + " | ".join(shown.columns) + " |",
        "|---" * (len(shown.columns) + 1) + "|",
        *(f"| `{name}` | " + " | ".join(row) + " |" for name, row in shown.iterrows()),
        "",
        *(
            [f"deadline: never reported; the race ended at its deadline ({WAIT:g} s here).", ""]
            if (shown == "deadline").any().any()
            else []
        ),
        *(
            ["cancelled: not reported as a death; Dask's FutureCancelledError ended the race.", ""]
            if (shown == "cancelled").any().any()
            else []
        ),
        "Stop signals during `foldrace run` (signal to exit, whichever pool runs): "
        + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in stops.items())
        + ".",
    ]
    markdown = "\n".join(lines)
    print(f"Median time to detection, ms, of {args.runs} runs each:\n{markdown}")
    if args.markdown:
        args.markdown.write_text(markdown + "\n")
    return table


if __name__ == "__main__":
    main()

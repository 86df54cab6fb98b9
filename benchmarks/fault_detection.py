"""Time from a fault to foldrace's error, for every fault and every executor.

Each fault strikes at once in the first task (fold 0); the healthy folds sleep 20 s, so an
executor that waited for them would show it. The origin is the earliest ``fit`` start that
the faulty estimators stamp into a file; the end is when ``race`` raises. Ctrl-C is timed
on the command line, from SIGINT to exit.

Run: ``python benchmarks/fault_detection.py [--runs 5] [--markdown docs/outputs/faults.md]``
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from foldrace import RaceError, Workload, default_workload, race
from foldrace.executors import parse_spec, standard_specs
from foldrace.testing import CrashingClassifier, FailingClassifier, SlowClassifier, uneven_folds

HEALTHY = 20.0 / 120  # seconds per training sample of the healthy folds
TIMEOUT = 0.5


def faults(stamp: str, serial: bool, processes: bool) -> dict[str, tuple[object, float | None]]:
    """Fault name -> (estimator, timeout). Only processes can die alone."""
    spare = None if serial else os.getpid()
    found = {
        "fit raises": (FailingClassifier(60, HEALTHY, spare, stamp), None),
        f"past a {TIMEOUT:g} s timeout": (SlowClassifier(HEALTHY, spare, stamp), TIMEOUT),
    }
    if processes:
        found["worker exits (os._exit)"] = (
            CrashingClassifier(41, "exit", HEALTHY, spare, stamp),
            None,
        )
        found["worker killed (SIGKILL)"] = (
            CrashingClassifier(41, "kill", HEALTHY, spare, stamp),
            None,
        )
    return found


def detection_seconds(name: str, estimator: object, timeout: float | None, stamp: Path) -> float:
    """One race with one fault; seconds from the fault to the error."""
    base = default_workload(n_samples=300)
    folds = uneven_folds(300, train_sizes=(40, 240, 120), test_size=20)
    workload = Workload(base.X, base.y, {"m": estimator}, folds=folds)
    stamp.write_text("")
    workers = 2 if parse_spec(name).executor_class.parallel else 1
    try:
        race(workload, [name], [workers], repeats=1, warmup=0, timeout=timeout)
    except RaceError:
        raised = time.time()
    else:
        raise AssertionError(f"{name} reported no fault")
    fault = min(float(line) for line in stamp.read_text().split())
    return raised - fault - (timeout or 0.0)


def ctrl_c_seconds() -> float:
    """Seconds from SIGINT to the exit of ``foldrace run`` with a pool running."""
    with tempfile.TemporaryDirectory() as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "foldrace", "run", "--repeats", "20", "--quiet", "--out", out],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(4)
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        assert process.returncode == 130
        return time.monotonic() - sent


def main(argv: list[str] | None = None) -> pd.DataFrame:
    """Measure every fault on every executor; print (and optionally save) the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        stamp = Path(scratch) / "stamp"
        for spec in standard_specs():
            name, cls = spec.label, spec.executor_class
            found = faults(str(stamp), not cls.parallel, spec.uses_processes)
            for fault, (estimator, timeout) in found.items():
                times = [
                    detection_seconds(name, estimator, timeout, stamp) for _ in range(args.runs)
                ]
                rows.append((fault, name, statistics.median(times) * 1000))
    ctrl_c = statistics.median(ctrl_c_seconds() for _ in range(args.runs)) * 1000
    table = pd.DataFrame(rows, columns=["fault", "executor", "ms"])
    order = list(dict.fromkeys(table["executor"]))
    table = table.pivot(index="executor", columns="fault", values="ms").loc[order]
    table = table[list(dict.fromkeys(fault for fault, _, _ in rows))]
    shown = table.map(lambda v: "n/a" if pd.isna(v) else f"{v:.0f}")
    lines = [
        "| executor | " + " | ".join(shown.columns) + " |",
        "|---" * (len(shown.columns) + 1) + "|",
        *(f"| `{name}` | " + " | ".join(row) + " |" for name, row in shown.iterrows()),
        "",
        f"Ctrl-C during `foldrace run` (SIGINT to exit, whichever pool runs): {ctrl_c:.0f} ms.",
    ]
    markdown = "\n".join(lines)
    print(f"Median time to detection, ms, of {args.runs} runs each:\n{markdown}")
    if args.markdown:
        args.markdown.write_text(markdown + "\n")
    return table


if __name__ == "__main__":
    main()

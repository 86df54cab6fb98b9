# %% [markdown]
# # Tutorial 07: when things go wrong
#
# The raw `multiprocessing` API fails quietly in two ways: `apply_async` with only a
# `callback` loses a failing task without a word, and `Pool.map` waits forever for a
# task whose worker died. Each is shown here safely (every wait has a timeout), beside what
# foldrace reports instead.
#
# Run: `python tutorials/07_faults.py`

# %%
from __future__ import annotations

import multiprocessing as mp
import os
import time

from foldrace import InputError, RaceError, Workload, benchmark_fold, race
from foldrace.executors import standard_specs
from foldrace.keys import REFERENCE
from foldrace.testing import CrashingClassifier, NoisyClassifier, SlowClassifier, uneven_folds
from foldrace.workload import default_workload


# %%
def crashing_workload(n_samples: int = 300, how: str = "exit") -> Workload:
    """Fold 0's worker dies at once (``how``: ``os._exit`` or SIGKILL); this process is spared."""
    base = default_workload(n_samples=n_samples)
    folds = uneven_folds(n_samples, train_sizes=(40, 200, 100), test_size=20)
    crashing = CrashingClassifier(crash_below=41, how=how, spare_pid=os.getpid())
    return Workload(base.X, base.y, {"m": crashing}, folds=folds)


def every_executor(how: str = "kill", n_samples: int = 300) -> dict[str, str]:
    """Try it: race the crashing model on every strategy, one line per executor."""
    workload = crashing_workload(n_samples, how)
    reports = {}
    # --8<-- [start:every]
    for spec in standard_specs():
        if spec.label == REFERENCE:
            continue  # serial runs in this process, which the model spares
        if spec.backend == "thread":  # a thread cannot die alone: its crash would end this process
            reports[spec.label] = "skipped: it would run the crash in this process"
        else:
            try:
                race(workload, executors=[spec.label], workers=[2], repeats=1, warmup=0)
                reports[spec.label] = "no error (nothing died?)"
            except RaceError as error:  # one error per executor, then on to the next
                reports[spec.label] = str(error)
        print(f"{spec.label}: {reports[spec.label]}")
    # --8<-- [end:every]
    return reports


def main(n_samples: int = 300, patience: float = 3.0) -> dict[str, object]:
    """Show each failure on the raw API, then what foldrace reports."""
    workload = crashing_workload(n_samples)
    facts: dict[str, object] = {}

    # --8<-- [start:hang]
    with mp.Pool(processes=2) as pool:
        arguments = [(*workload.common_args, task) for task in workload.tasks()]
        pending = pool.starmap_async(benchmark_fold, arguments)
        try:
            pending.get(timeout=patience)  # without a timeout: waits forever
        except mp.TimeoutError:
            print(f"Pool.starmap: still waiting after {patience:g} s for a dead worker's task")
            facts["raw_hang"] = True
    # --8<-- [end:hang]

    # --8<-- [start:died]
    started = time.monotonic()
    try:
        race(workload, executors=["starmap"], workers=[2], repeats=1, warmup=0)
    except RaceError as error:
        print(f"foldrace after {time.monotonic() - started:.2f} s: {error}")
        facts["died"] = str(error)
    # --8<-- [end:died]

    # --8<-- [start:timeout]
    sleepy = SlowClassifier(seconds_per_sample=0.05, spare_pid=os.getpid())  # 10 s a fold
    slow = Workload(workload.X, workload.y, {"m": sleepy}, folds=workload.folds)
    try:
        race(slow, executors=["apply_async"], workers=[2], repeats=1, warmup=0, timeout=0.5)
    except RaceError as error:
        print(f"foldrace: {error}")
        facts["timeout"] = str(error)
    # --8<-- [end:timeout]

    # --8<-- [start:noisy]
    noisy = Workload(workload.X, workload.y, {"noisy": NoisyClassifier(0.0)})
    check = race(noisy, executors=["map"], workers=[2], repeats=3, warmup=0).check()
    print(check.describe())
    facts["identical"] = check.identical
    # --8<-- [end:noisy]

    # --8<-- [start:pickle]
    lambda_scored = Workload(
        workload.X, workload.y, {"m": NoisyClassifier(0.0)}, scorer=lambda estimator, X, y: 0.5
    )
    try:
        race(lambda_scored, executors=["map"], workers=[2], repeats=1)
    except InputError as error:
        print(f"foldrace: {error}")
        facts["pickle"] = str(error)
    # --8<-- [end:pickle]
    return facts


# %%
if __name__ == "__main__":
    main()

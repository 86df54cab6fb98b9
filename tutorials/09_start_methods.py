# %% [markdown]
# # Tutorial 09: start methods: fork, spawn and forkserver, set explicitly
#
# A process pool starts its workers one of three ways. `fork` copies the parent as it is
# (fast, and everything the parent imported is already there); `spawn` starts a fresh
# interpreter that imports the main module and whatever it unpickles; `forkserver` forks
# each worker from a small server process started once. Python 3.14 moved Linux's default
# from fork to forkserver, so foldrace always names the method it uses.
#
# Run: `python tutorials/09_start_methods.py [OUT_DIR]` (writes `start-methods.png`)

# %%
from __future__ import annotations

import multiprocessing
import subprocess
import sys

from foldrace import default_workload, race
from foldrace.plots import TUTORIAL_OUT, bar_figure, write_figure
from foldrace.scripts import script_arguments

# %%
# --8<-- [start:preload]
PRELOAD = """
import multiprocessing, sys, time
from foldrace import default_workload
from foldrace.blog import benchmark_models

if __name__ == "__main__":
    if sys.argv[1] == "preload":
        multiprocessing.set_forkserver_preload(["foldrace.blog"])  # scikit-learn, once
    context = multiprocessing.get_context("forkserver")
    workload = default_workload(n_samples=int(sys.argv[2]))
    arguments = [(workload.X, workload.y, fold) for fold in workload.folds]
    for pool in (1, 2):  # a fresh pool each time, as a race opens one per run
        start = time.perf_counter()
        with context.Pool(2) as workers:
            workers.starmap(benchmark_models, arguments)
        print(f"{sys.argv[1]:>10}, pool {pool}: {time.perf_counter() - start:.2f} s")
"""


def forkserver_pools(preload: bool, n_samples: int = 1000) -> str:
    """Time two forkserver pools in a fresh interpreter (one fork server per process)."""
    variant = "preload" if preload else "no preload"
    command = [sys.executable, "-c", PRELOAD, variant, str(n_samples)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


# --8<-- [end:preload]


def main(out: str = TUTORIAL_OUT, n_samples: int = 1000, repeats: int = 3) -> dict:
    """Race starmap under every start method; print start-up and speedup per method."""
    # --8<-- [start:race]
    methods = multiprocessing.get_all_start_methods()  # fork, spawn, forkserver on Linux
    result = race(
        default_workload(n_samples=n_samples),
        executors=["starmap"],
        start_method=methods,  # one configuration per method: starmap, starmap/spawn, ...
        workers=[2],
        repeats=repeats,
    )
    timings = result.timings.groupby("executor", sort=False)
    table = timings[["startup_s", "run_s", "shutdown_s"]].median().mul(1000).round(0)
    table["speedup"] = result.summary().set_index("executor")["speedup"].round(2)
    print(table.rename(columns=lambda c: c.replace("_s", " ms")).to_string())
    print(result.check().describe())
    # --8<-- [end:race]

    startup = table.drop(index="serial").reset_index()
    configs = result.meta["configs"]  # each bar says its start method: "fork: starmap"
    bars = startup.assign(bar=[f"{configs[e]['start_method']}: {e}" for e in startup["executor"]])
    fig = bar_figure(
        bars,
        value="startup_s",
        label="bar",
        colour_by="executor",
        title="Pool start-up until every worker is ready, 2 workers",
        xlabel="ms (median)",
        fmt="{:.0f} ms",
    )
    write_figure(fig, out, "start-methods")

    # --8<-- [start:compare]
    printed = forkserver_pools(False, n_samples) + forkserver_pools(True, n_samples)
    print(printed, end="")
    # --8<-- [end:compare]
    facts = {"identical": result.check().identical, "startup_ms": startup.to_dict("records")}
    return facts | {"preload": printed.splitlines()}


# %%
if __name__ == "__main__":  # spawn and forkserver workers import this file: the guard is vital
    main(*script_arguments()[:1])

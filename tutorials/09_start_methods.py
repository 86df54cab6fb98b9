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

from foldrace import default_workload, race
from foldrace.plots import TUTORIAL_OUT, bar_figure, write_figure
from foldrace.scripts import script_arguments


# %%
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
    return {"identical": result.check().identical, "startup_ms": startup.to_dict("records")}


# %%
if __name__ == "__main__":  # spawn and forkserver workers import this file: the guard is vital
    main(*script_arguments()[:1])

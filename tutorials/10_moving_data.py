# %% [markdown]
# # Tutorial 10: the cost of moving data: with every task, once per worker, or shared
#
# A worker process has its own memory, so X and y must reach it somehow. The blog pickles
# them with every task; a pool initializer can send them once per worker; shared memory
# copies the arrays once, and every worker maps the same pages. With small data the choice
# does not matter. This tutorial finds the size where it starts to.
#
# Run: `python tutorials/10_moving_data.py [OUT_DIR] [SIZES...]` (writes `data-passing.png`)

# %%
from __future__ import annotations

from sklearn.naive_bayes import GaussianNB

from foldrace import Workload, default_workload, race
from foldrace.executors import parse_spec
from foldrace.plots import TUTORIAL_OUT, bar_figure, write_figure
from foldrace.scripts import script_arguments


# %%
def main(
    out: str = TUTORIAL_OUT,
    sizes: tuple[int, ...] = (1_000, 100_000, 1_000_000),
    repeats: int = 3,
    executors: tuple[str, ...] = ("starmap",),
) -> dict:
    """Race ``executors`` (starmap) with each data passing mode at each data size."""
    rows = []
    for n_samples in sizes:
        # --8<-- [start:race]
        base = default_workload(n_samples=n_samples)  # 20 features: 160 bytes per sample
        workload = Workload(base.X, base.y, {"nb": GaussianNB()}, folds=base.folds)
        result = race(
            workload,
            executors=list(executors),
            data_passing=["task", "worker", "shared"],
            workers=[2],
            repeats=repeats,
        )
        # --8<-- [end:race]
        assert result.check().identical
        total = result.timings.assign(
            total_s=lambda t: t["startup_s"] + t["run_s"] + t["shutdown_s"]
        )
        medians = total.groupby("executor", sort=False)[["startup_s", "total_s"]].median()
        for label, payload in result.meta["payload"].items():
            rows.append(
                {
                    "samples": n_samples,
                    "executor": label,
                    "data": "-" if label == "serial" else parse_spec(label).data_passing,
                    "bytes per task": payload["bytes_per_task"],
                    "bytes per worker": payload["bytes_per_worker"],
                    "start-up s": medians.loc[label, "startup_s"],
                    "seconds": medians.loc[label, "total_s"],
                }
            )
    # --8<-- [start:table]
    import pandas as pd

    table = pd.DataFrame(rows)
    shown = {"start-up s": "{:.3f}".format, "seconds": "{:.3f}".format}
    print(table.to_string(index=False, formatters=shown))
    # --8<-- [end:table]
    # Each bar names its data passing mode, `task` too (a label leaves the default out):
    tasks = table["data"] == "task"
    bars = table.assign(bar=table["executor"].where(~tasks, table["executor"] + "/task"))
    fig = bar_figure(
        bars,
        value="seconds",
        label="bar",
        colour_by="executor",
        group="samples",
        title="Whole race call (start-up + run + shutdown), 2 workers, naive Bayes",
        xlabel="seconds (median)",
        fmt="{:.3f} s",
        sharex=False,  # each size on its own scale: 0.04 s beside 1.8 s would be a sliver
    )
    write_figure(fig, out, "data-passing")
    return {"table": table, "figure": fig}


# %%
if __name__ == "__main__":
    arguments = script_arguments()
    main(
        arguments[0] if arguments else TUTORIAL_OUT,
        tuple(int(float(s)) for s in arguments[1:]) or (1_000, 100_000, 1_000_000),
    )

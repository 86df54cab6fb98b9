# %% [markdown]
# # Tutorial 11: oversubscription: BLAS and OpenMP threads inside every worker
#
# Many estimators run their own threads (OpenMP in HistGradientBoosting, BLAS in linear
# algebra), one per core by default. Two workers on two cores then run four threads that
# fight for two cores. foldrace limits inner threads to one per worker with threadpoolctl,
# and `blas_threads=None` lifts the limit. This tutorial looks inside a worker, then times
# both settings.
#
# Run: `python tutorials/11_oversubscription.py [OUT_DIR]` (writes `oversubscription.png`)

# %%
from __future__ import annotations

import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

from foldrace import Workload, default_workload, race
from foldrace.executors import parse_spec
from foldrace.plots import TUTORIAL_OUT, bar_figure, write_figure
from foldrace.scripts import script_arguments
from foldrace.testing import inner_threads


# %%
def main(
    out: str = TUTORIAL_OUT, n_samples: int = 20_000, repeats: int = 3, max_iter: int = 50
) -> dict:
    """Count inner threads in workers, then race with and without the limit."""
    # --8<-- [start:inside]
    inner = {"here": inner_threads()}
    print(f"this process would run {inner['here']} inner threads")
    for blas_threads in (1, None):
        with parse_spec("starmap/forkserver").build(2, blas_threads=blas_threads) as pool:
            seen = pool.run(inner_threads, range(2))
        print(f"blas_threads={blas_threads}: each worker would run {seen[0]} inner threads")
        inner[str(blas_threads)] = seen[0]
    # --8<-- [end:inside]

    # --8<-- [start:race]
    base = default_workload(n_samples=n_samples)
    hgb = HistGradientBoostingClassifier(max_iter=max_iter, random_state=0)  # OpenMP inside
    workload = Workload(base.X, base.y, {"hgb": hgb}, folds=base.folds)
    rows = []
    for blas_threads in (1, None):
        result = race(
            workload,
            ["starmap"],
            [2],
            repeats,
            blas_threads=blas_threads,
            start_method="forkserver",  # fork after OpenMP ran here can crash (see below)
        )
        assert result.check().identical
        slowest = result.timings.groupby("executor")["run_s"].max()  # a median can hide one
        for row in result.summary().itertuples():
            rows.append(
                {
                    "limit": "1 per worker" if blas_threads else "none (library defaults)",
                    "executor": row.executor,
                    "median_s": row.median_s,
                    "slowest_s": slowest[row.executor],
                    "speedup": row.speedup,
                }
            )
    table = pd.DataFrame(rows)
    print(table.round(3).to_string(index=False))
    # --8<-- [end:race]
    fig = bar_figure(
        table,
        value="median_s",
        label="executor",
        group="limit",
        title="HistGradientBoosting, 3 folds: inner threads limited to 1, or not",
        xlabel="seconds (median, dispatch + compute)",
        fmt="{:.2f} s",
    )
    write_figure(fig, out, "oversubscription")
    return {"table": table, "inner": inner}


# %%
if __name__ == "__main__":
    main(*script_arguments()[:1])

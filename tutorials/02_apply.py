# %% [markdown]
# # Tutorial 02: a loop of `Pool.apply` gives no speedup
#
# `Pool.apply` sends one task to a worker and waits for its result before returning, so
# a loop of `apply` calls keeps exactly one worker busy, however many the pool has.
#
# Run: `python tutorials/02_apply.py [OUT_DIR]` (writes `apply-timeline.png`)

# %%
from __future__ import annotations

import multiprocessing as mp
import time

from foldrace import default_workload, race
from foldrace.blog import benchmark_models
from foldrace.plots import TUTORIAL_OUT, plot_timeline, write_figure
from foldrace.scripts import script_arguments


# %%
def main(out: str = TUTORIAL_OUT, n_samples: int = 1000, processes: int = 2) -> dict[str, object]:
    """Time a loop of apply on ``processes`` workers; draw apply's timeline beside apply_async's."""
    # --8<-- [start:apply]
    workload = default_workload(n_samples=n_samples)
    X, y, folds = workload.X, workload.y, list(workload.folds)

    start = time.perf_counter()
    with mp.Pool(processes=processes) as pool:
        results = [pool.apply(benchmark_models, args=(X, y, fold)) for fold in folds]
    apply_seconds = time.perf_counter() - start
    # --8<-- [end:apply]

    start = time.perf_counter()
    serial = [benchmark_models(X, y, fold) for fold in folds]
    serial_seconds = time.perf_counter() - start
    assert results == serial  # same scores, in the same order
    print(
        f"serial: {serial_seconds:.3f} s, "
        f"loop of Pool.apply on {processes} workers: {apply_seconds:.3f} s"
    )

    # --8<-- [start:timeline]
    result = race(workload, executors=["apply", "apply_async"], workers=[processes], repeats=1)
    timeline = plot_timeline(result)  # a matplotlib Figure: apply-timeline.png below
    # --8<-- [end:timeline]
    busy = result.tasks.query("executor == 'apply'").sort_values("start")
    overlap = any(busy["start"].iloc[1:].to_numpy() < busy["end"].iloc[:-1].to_numpy())
    print(f"apply ever ran two tasks at once: {overlap}")
    write_figure(timeline, out, "apply-timeline")  # PNG and SVG, then "wrote ..."
    return {"serial": serial_seconds, "apply": apply_seconds, "overlap": overlap}


# %%
if __name__ == "__main__":
    main(*script_arguments()[:1])

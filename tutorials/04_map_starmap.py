# %% [markdown]
# # Tutorial 04: `Pool.map` and `Pool.starmap`: argument packing and chunk size
#
# `map` calls the function with one argument per item, so the arguments every call shares
# (X and y) must be bound first, with `functools.partial`. `starmap` unpacks a tuple per
# call, so each tuple carries all the arguments. Both send tasks in chunks: a worker takes a
# whole chunk at once, which makes tiny tasks cheap and can unbalance big ones.
#
# Run: `python tutorials/04_map_starmap.py`

# %%
from __future__ import annotations

import multiprocessing as mp
import time
from functools import partial

from foldrace import benchmark_fold, default_workload
from foldrace.blog import benchmark_models
from foldrace.dispatch import dispatch_cost
from foldrace.schedule import pool_chunksize


# %%
def main(
    n_samples: int = 1000, n_trivial: int = 2000, chunksize: int | None = None
) -> dict[str, object]:
    """Pack arguments both ways, then measure what chunking saves on trivial tasks."""
    # --8<-- [start:packing]
    workload = default_workload(n_samples=n_samples)
    X, y, folds = workload.X, workload.y, list(workload.folds)

    with mp.Pool(processes=2) as pool:
        mapped = pool.map(partial(benchmark_models, X, y), folds)  # f(X, y, fold)
        starmapped = pool.starmap(benchmark_models, [(X, y, fold) for fold in folds])
    # --8<-- [end:packing]
    assert mapped == starmapped  # same calls, same results, in fold order
    print(f"map and starmap agree: {mapped == starmapped}")

    # --8<-- [start:who]
    with mp.Pool(processes=2) as pool:  # which worker ran each fold, in chunks of `chunksize`
        ran = pool.map(partial(benchmark_fold, *workload.common_args), workload.tasks(), chunksize)
    pids = {result.pid for result in ran}
    print(f"map, chunksize={chunksize}: {len(ran)} folds ran in {len(pids)} worker process(es)")
    # --8<-- [end:who]

    # --8<-- [start:chunks]
    for n_tasks in (3, 100, n_trivial):
        print(f"{n_tasks} tasks on 2 workers: chunks of {pool_chunksize(n_tasks, 2)}")
    # --8<-- [end:chunks]

    # --8<-- [start:dispatch]
    start = time.perf_counter()
    cost = dispatch_cost(["map", "starmap"], n_tasks=n_trivial, workers=2, repeats=3)
    per_task = cost.groupby(["executor", "variant"])["us_per_task"].median()
    print(f"dispatch cost of {n_trivial} trivial tasks, µs per task (median of 3):")
    print(per_task.round(1).unstack("variant").to_string())
    # --8<-- [end:dispatch]
    print(f"measured in {time.perf_counter() - start:.1f} s")
    return {"agree": mapped == starmapped, "per_task": per_task.to_dict(), "processes": len(pids)}


# %%
if __name__ == "__main__":
    main()

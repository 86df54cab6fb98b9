# %% [markdown]
# # Tutorial 08: thread pools and the GIL: the same strategies on threads instead of processes
#
# `multiprocessing.pool.ThreadPool` has `Pool`'s API and `ThreadPoolExecutor` has
# `ProcessPoolExecutor`'s, so every strategy runs on threads by swapping the pool: no
# start-up cost, nothing pickled, one shared memory. What threads cannot share is the
# interpreter: Python code holds the GIL, so two threads only run at once while one of them is
# inside compiled code that released it. The race measures how much of scikit-learn's work
# does.
#
# Run: `python tutorials/08_threads.py [OUT_DIR]` (writes `threads-speedup.png`)

# %%
from __future__ import annotations

import os

from sklearn.ensemble import HistGradientBoostingClassifier

from foldrace import Workload, default_workload, plot_speedup, race
from foldrace.plots import TUTORIAL_OUT, write_figure
from foldrace.scripts import script_arguments


# %%
def main(
    out: str = TUTORIAL_OUT, n_samples: int = 1000, repeats: int = 3, hgb: bool = False
) -> dict:
    """Race starmap and submit on processes and on threads; print speedups and pids.

    ``hgb=True`` races a histogram gradient boosting model instead of the blog's two.
    """
    # --8<-- [start:race]
    workload = default_workload(n_samples=n_samples)
    if hgb:  # Try it: OpenMP code that releases the GIL, inside a Python loop
        model = HistGradientBoostingClassifier(max_iter=50, random_state=0)
        workload = Workload(workload.X, workload.y, {"hgb": model}, folds=workload.folds)
    result = race(
        workload,
        executors=["starmap", "submit", "apply_async"],
        backends=["process", "thread"],  # every strategy on both kinds of worker
        workers=[1, 2],
        repeats=repeats,
    )
    summary = result.summary()
    print(summary[["executor", "workers", "median_s", "speedup"]].round(3).to_string(index=False))
    print(result.check().describe())
    # --8<-- [end:race]

    # --8<-- [start:pids]
    tasks = result.tasks
    for label in ("starmap", "starmap/thread"):
        run = tasks[(tasks["executor"] == label) & (tasks["workers"] == 2) & (tasks["repeat"] == 0)]
        pids = set(run["pid"])
        where = "this process" if pids == {os.getpid()} else f"{len(pids)} worker processes"
        print(f"{label:>15}: the 3 tasks of one 2-worker run ran in {where}")
    # --8<-- [end:pids]

    write_figure(plot_speedup(result), out, "threads-speedup")
    two = summary[summary["workers"] == 2].set_index("executor")["speedup"]
    return {"identical": result.check().identical, "speedup": two.to_dict()}


# %%
if __name__ == "__main__":
    main(*script_arguments()[:1])

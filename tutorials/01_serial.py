# %% [markdown]
# # Tutorial 01: the serial baseline
#
# The blog's problem: 1000 samples, 3 stratified folds, a logistic regression and a random
# forest, ROC-AUC on each held-out fold. One fold after another, in one process: the time
# every parallel strategy is measured against.
#
# Run: `python tutorials/01_serial.py`

# %%
from __future__ import annotations

import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import StratifiedKFold

from foldrace import benchmark_fold, default_workload, granularity_bound
from foldrace.blog import benchmark_models


# %%
def main(n_samples: int = 1000, n_splits: int = 3) -> dict[str, object]:
    """Cross-validate the blog's two models serially; return times and averaged scores."""
    # --8<-- [start:problem]
    X, y = make_classification(
        n_samples=n_samples, n_features=20, n_informative=10, random_state=123
    )
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=123)
    folds = list(splitter.split(X, y))  # [(train_indices, test_indices), ...]
    # --8<-- [end:problem]

    # --8<-- [start:serial]
    start = time.perf_counter()
    results = [benchmark_models(X, y, fold) for fold in folds]
    seconds = time.perf_counter() - start
    averages = {m: float(np.mean([r[m] for r in results])) for m in results[0]}
    print(f"serial, the blog's function: {seconds:.3f} s for {len(folds)} folds")
    print(f"averaged ROC-AUC: {averages}")
    # --8<-- [end:serial]

    # --8<-- [start:foldrace]
    workload = default_workload(n_samples, n_folds=n_splits)  # the same data, folds, models
    tasks = workload.tasks()  # one FoldTask per fold
    fold_results = [benchmark_fold(*workload.common_args, task) for task in tasks]
    for result in fold_results:
        print(
            f"fold {result.fold}: {result.duration:.3f} s in process {result.pid}, "
            f"scores {result.scores}"
        )
    # --8<-- [end:foldrace]
    same = all(float(np.mean([r.scores[m] for r in fold_results])) == averages[m] for m in averages)
    print(f"foldrace's fold function gives the same averages: {same}")
    bound = granularity_bound([result.duration for result in fold_results], workers=2)
    print(f"{len(folds)} folds on 2 workers: at best {bound:.2f}x faster than serial")
    return {
        "seconds": seconds,
        "averages": averages,
        "same": same,
        "bound": bound,
        "folds": len(folds),
    }


# %%
if __name__ == "__main__":
    main()

"""The blog's hand-written code, kept faithful: the baseline foldrace measures itself against.

This is the classic "Parallelizing Model Selection Using the Multiprocessing Library in
Python" approach: a helper that builds its models, fits them on one fold and returns ROC-AUC
per model, run through ``Pool.apply_async`` with a result-collecting callback, or through
``Pool.starmap`` (serially, it is a plain loop: tutorial 01). One change only: the random
forest gets ``random_state`` so its scores can be compared with foldrace's bit for bit.

Its known weaknesses are kept on purpose, for comparison: the callback loop has no
``error_callback`` (a failing fold is silently missing) and collects results in completion
order.
"""

from __future__ import annotations

import multiprocessing as mp
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

__all__ = ["benchmark_models", "run_apply_async", "run_starmap"]


# --8<-- [start:benchmark_models]
def benchmark_models(
    X: np.ndarray, y: np.ndarray, split: tuple[np.ndarray, np.ndarray]
) -> dict[str, float]:
    """Fit the blog's two models on ``split[0]`` and return ROC-AUC on ``split[1]``."""
    X_train, y_train = X[split[0], :], y[split[0]]
    X_test, y_test = X[split[1], :], y[split[1]]
    model_library: dict[str, Any] = {}
    model_library["logit"] = LogisticRegression(solver="liblinear")
    model_library["rf"] = RandomForestClassifier(
        n_estimators=100, min_samples_leaf=20, random_state=0
    )
    results = {}
    for model_name, model in model_library.items():
        model.fit(X_train, y_train)
        pred_test = model.predict_proba(X_test)[:, 1]
        results[model_name] = roc_auc_score(y_test, pred_test)
    return results


# --8<-- [end:benchmark_models]


def run_apply_async(
    X: np.ndarray, y: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]], processes: int
) -> list[dict[str, float]]:
    """``apply_async`` with a callback that appends each result, as the blog writes it."""
    results: list[dict[str, float]] = []

    def log_result(result: dict[str, float]) -> None:
        results.append(result)

    pool = mp.Pool(processes=processes)
    for fold in folds:
        pool.apply_async(benchmark_models, args=(X, y, fold), callback=log_result)
    pool.close()
    pool.join()
    return results


def run_starmap(
    X: np.ndarray, y: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]], processes: int
) -> list[dict[str, float]]:
    """``starmap`` over ``(X, y, fold)`` tuples."""
    with mp.Pool(processes=processes) as pool:
        return pool.starmap(benchmark_models, [(X, y, fold) for fold in folds])

"""The one fold-benchmark function every executor runs, and its task and result records.

``benchmark_fold(X, y, models, scorer, task)`` fits each named model on the task's
training indices and scores it on the held-out fold. The first four arguments are the same
for every task of a race (the *common* arguments); only ``task`` changes. Executors differ
only in how they deliver those arguments to this one function.
"""

from __future__ import annotations

import math
import os
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone

from foldrace.errors import FoldTaskError, TaskTimeoutError

__all__ = ["FoldResult", "FoldTask", "benchmark_fold", "mean_scores", "take_rows"]


@dataclass(frozen=True)
class FoldTask:
    """One unit of work: a fold's indices and the models to fit on it.

    Parameters
    ----------
    fold : int
        Fold id, counted from 0 in the order the splitter produced the folds.
    train, test : numpy.ndarray
        Integer row indices of the training and held-out samples.
    models : tuple of str
        Names of the workload's models this task fits, in order.
    """

    fold: int
    train: np.ndarray = field(repr=False)
    test: np.ndarray = field(repr=False)
    models: tuple[str, ...]


@dataclass(frozen=True)
class FoldResult:
    """What one task returns.

    Parameters
    ----------
    fold : int
        The task's fold id.
    scores : dict of str to float
        Held-out score of each model the task fitted.
    pid : int
        Process id of the worker that ran the task.
    start, end : float
        Wall-clock time (``time.time()``) when the task started and ended in the worker.
    """

    fold: int
    scores: dict[str, float]
    pid: int
    start: float
    end: float

    @property
    def duration(self) -> float:
        """Seconds the task took inside the worker."""
        return self.end - self.start


def take_rows(data: Any, index: np.ndarray) -> Any:
    """Select rows of an array or a pandas object by integer position."""
    return data.iloc[index] if hasattr(data, "iloc") else data[index]


def benchmark_fold(
    X: Any,
    y: Any,
    models: Mapping[str, Any],
    scorer: Callable[[Any, Any, Any], float],
    task: FoldTask,
) -> FoldResult:
    """Fit each of the task's models on its training rows and score the held-out fold.

    Every model is cloned first, so the caller's estimators are never fitted and every
    task starts from the same unfitted state.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features (NumPy array or pandas DataFrame).
    y : array-like of shape (n_samples,)
        Binary target.
    models : mapping of str to estimator
        The workload's estimators by name.
    scorer : callable
        ``scorer(fitted_estimator, X_test, y_test) -> float``, a scikit-learn scorer.
    task : FoldTask
        Which fold, and which models, to run.

    Returns
    -------
    FoldResult
        Scores by model name, with the worker's pid and the task's start and end times.

    Raises
    ------
    FoldTaskError
        If fitting or scoring fails, or the score is NaN or infinite; it names the fold
        and the model, and chains the original exception.
    """
    start = time.time()
    X_train, y_train = take_rows(X, task.train), take_rows(y, task.train)
    X_test, y_test = take_rows(X, task.test), take_rows(y, task.test)
    scores: dict[str, float] = {}
    for name in task.models:
        try:
            fitted = clone(models[name]).fit(X_train, y_train)
            score = float(scorer(fitted, X_test, y_test))
            if not math.isfinite(score):
                raise ValueError(f"the scorer returned {score!r}; a score must be a finite number")
            scores[name] = score
        except TaskTimeoutError:
            raise  # the run's deadline, not the model's failure
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            formatted = "".join(traceback.format_exception(exc))
            raise FoldTaskError(task.fold, name, reason, formatted) from exc
    return FoldResult(task.fold, scores, os.getpid(), start, time.time())


def mean_scores(results: list[FoldResult]) -> dict[str, float]:
    """Average each model's score over folds, in fold order, as ``numpy.mean`` does.

    Results may come in any order and hold any subset of models (one task per fold and
    model); they are sorted by fold before averaging, so the float sum is always the same.
    """
    by_model: dict[str, list[tuple[int, float]]] = {}
    for result in results:
        for model, score in result.scores.items():
            by_model.setdefault(model, []).append((result.fold, score))
    return {
        model: float(np.mean([score for _, score in sorted(pairs, key=lambda p: p[0])]))
        for model, pairs in by_model.items()
    }

"""scikit-learn's ``cross_validate(n_jobs=w)``, once per candidate, as a loop over models.

Each of the tasks' model tuples (one per candidate, see :mod:`.sklearn_probe`) is
cross-validated in turn, its folds run through ``joblib.Parallel(n_jobs=w)``: the workers
wait for the slowest fold of one candidate before the next starts. The workers are
joblib's reusable loky workers, started (the start-up phase) and warm before the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.base import clone
from sklearn.model_selection import cross_validate

from foldrace.executors.strategies.sklearn_probe import (
    OwnSearch,
    is_fold_benchmark,
    parallel_calls,
    search_inputs,
)

__all__ = ["CrossValidateExecutor"]


class CrossValidateExecutor(OwnSearch):
    """``cross_validate(..., n_jobs=workers)`` per candidate; the tasks' function is not called."""

    name = "cross_validate"
    summary = "scikit-learn's cross_validate(n_jobs=w), one call per model, on loky workers"
    schedule = "candidate-by-candidate"

    def dispatch(
        self, workers: Any, fn: Callable[..., Any], common: tuple[Any, ...], items: list[Any]
    ) -> list[Any]:
        """A ``cross_validate`` call per candidate; results read from what it returns."""
        if not is_fold_benchmark(fn, items):  # another function: scikit-learn's Parallel
            with workers.running(self.deadline()):
                return parallel_calls(fn, common, items, self.workers)
        task = search_inputs(common, items)
        splits = []
        with workers.running(self.deadline()):
            for candidate in task.candidates:
                scores = cross_validate(
                    clone(task.probe).set_params(**{k: v[0] for k, v in candidate.items()}),
                    task.X,
                    task.y,
                    cv=task.cv,
                    scoring=task.scoring,
                    n_jobs=self.workers,
                    params=task.params,
                    error_score="raise",
                )
                keys = [key for key in scores if key.startswith("test_")]
                splits.append({key.removeprefix("test_"): list(scores[key]) for key in keys})
        return task.results(splits)

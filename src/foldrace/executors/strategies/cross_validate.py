"""scikit-learn's ``cross_validate(n_jobs=w)``, once per candidate, as a loop over models.

Each of the tasks' model tuples (one per candidate, see :mod:`.sklearn_probe`) is
cross-validated in turn, its folds run through ``joblib.Parallel(n_jobs=w)``: the workers
wait for the slowest fold of one candidate before the next starts. The workers are
joblib's reusable loky workers, started (the start-up phase) and warm before the run.
"""

from __future__ import annotations

from typing import Any

from sklearn.base import clone
from sklearn.model_selection import cross_validate

from foldrace.executors.strategies.sklearn_probe import OwnSearch, SearchInputs
from foldrace.fold import FoldResult

__all__ = ["CrossValidateExecutor"]


class CrossValidateExecutor(OwnSearch):
    """``cross_validate(..., n_jobs=workers)`` per candidate; the tasks' function is not called."""

    name = "cross_validate"
    summary = "scikit-learn's cross_validate(n_jobs=w), one call per model, on loky workers"
    schedule = "candidate-by-candidate"

    def search(self, workers: Any, task: SearchInputs) -> list[FoldResult]:
        """A ``cross_validate`` call per candidate; results read from what it returns."""
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

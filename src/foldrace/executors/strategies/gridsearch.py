"""scikit-learn's ``GridSearchCV(n_jobs=w)``: every task as one search, what most users run.

The tasks' models become candidates (see :mod:`.sklearn_probe`) and the folds its ``cv``;
``GridSearchCV.fit`` then runs every candidate on every fold through one
``joblib.Parallel(n_jobs=w)`` on joblib's reusable loky workers, candidate by candidate in
its own order, with its own batching. The workers come from the process backend, started
(the start-up phase, a cold start) and warm before the timed run.
"""

from __future__ import annotations

from typing import Any

from sklearn.model_selection import GridSearchCV

from foldrace.executors.strategies.sklearn_probe import OwnSearch, SearchInputs
from foldrace.fold import FoldResult

__all__ = ["GridSearchExecutor"]


class GridSearchExecutor(OwnSearch):
    """``GridSearchCV(..., n_jobs=workers).fit``; the tasks' own function is not called."""

    name = "gridsearch"
    summary = "scikit-learn's GridSearchCV(n_jobs=w): all tasks as one search on loky workers"
    schedule = "by-candidate"

    def search(self, workers: Any, task: SearchInputs) -> list[FoldResult]:
        """One search over every candidate and fold; results read from ``cv_results_``."""
        search = GridSearchCV(
            task.probe,
            task.candidates,
            cv=task.cv,
            scoring=task.scoring,
            n_jobs=self.workers,
            refit=False,
            error_score="raise",
        )
        with workers.running(self.deadline()):
            search.fit(task.X, task.y, **task.params)
        results = search.cv_results_
        keys = {key.removeprefix("split0_test_") for key in results if key.startswith("split0_")}
        splits = [
            {key: [results[f"split{k}_test_{key}"][c] for k in range(len(task.cv))] for key in keys}
            for c in range(len(task.candidates))
        ]
        return task.results(splits)

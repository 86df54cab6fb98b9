"""The same tasks through scikit-learn's own model selection, measured from inside.

``GridSearchCV`` and ``cross_validate`` fit and score in their own function
(``_fit_and_score``), in tasks of one candidate on one fold. To race them on foldrace's
tasks and check their scores, each task's models become one *candidate*: a
:class:`Probe` estimator whose parameter ``estimators`` holds them. In the worker, the
probe finds its fold from the training rows it is given (the fit parameter
``sample_index``), fits each model on them and records the start; the scoring callable
scores each fitted model with the workload's own scorer and returns the scores with the
worker's pid and the task's start and end, which scikit-learn keeps per split in its
results. A failing fit or a score that is not finite raises
:class:`~foldrace.errors.FoldTaskError` naming the fold and model, as ``benchmark_fold``
does; with ``error_score="raise"`` scikit-learn stops at the first.

The probe costs one extra ``clone`` per task; the fits, the scoring and the dispatch are
scikit-learn's and joblib's own. Any other function (the tests run some) goes through
scikit-learn's ``Parallel`` and ``delayed``, the ones its searches use.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone

from foldrace.errors import FoldTaskError, TaskTimeoutError
from foldrace.executors.base import Executor
from foldrace.fold import FoldResult, FoldTask, benchmark_fold

__all__ = [
    "OwnSearch",
    "Probe",
    "ProbeScoring",
    "SearchInputs",
    "is_fold_benchmark",
    "parallel_calls",
    "search_inputs",
]


def _rows_key(rows: Any) -> str:
    """A key for a set of row indices, the same in every process."""
    return hashlib.blake2b(np.asarray(rows, dtype=np.int64).tobytes(), digest_size=16).hexdigest()


class Probe(BaseEstimator):  # type: ignore[misc]
    """One candidate: the models of one task, fitted in order on the rows it is given.

    Parameters
    ----------
    estimators : dict of str to estimator
        The task's models by name (cloned before fitting, as scikit-learn does).
    folds : dict of str to int
        Fold id by the key of its training rows.
    """

    def __init__(
        self, estimators: Mapping[str, Any] | None = None, folds: Mapping[str, int] | None = None
    ) -> None:
        self.estimators = estimators
        self.folds = folds

    def fit(self, X: Any, y: Any, sample_index: Any = None) -> Probe:
        """Fit every model on ``X``, ``y``: the rows ``sample_index`` of the workload."""
        self.start_ = time.time()
        self.fold_ = (self.folds or {})[_rows_key(sample_index)]
        self.fitted_: dict[str, Any] = {}
        for name, estimator in (self.estimators or {}).items():
            try:
                self.fitted_[name] = clone(estimator).fit(X, y)
            except TaskTimeoutError:
                raise
            except Exception as exc:
                raise _task_error(self.fold_, name, exc) from exc
        return self


def _task_error(fold: int, name: str, exc: BaseException) -> FoldTaskError:
    reason = f"{type(exc).__name__}: {exc}"
    return FoldTaskError(fold, name, reason, "".join(traceback.format_exception(exc)))


@dataclass(frozen=True)
class ProbeScoring:
    """scikit-learn's ``scoring``: a callable that returns a dict of named numbers.

    ``score0``, ``score1``... are the held-out scores of the probe's models in order;
    ``fold``, ``pid``, ``start`` and ``end`` say where and when the task ran.
    """

    scorer: Callable[[Any, Any, Any], float]

    def __call__(self, probe: Probe, X: Any, y: Any) -> dict[str, float]:
        numbers: dict[str, float] = {}
        for position, (name, fitted) in enumerate(probe.fitted_.items()):
            try:
                score = float(self.scorer(fitted, X, y))
                if not math.isfinite(score):
                    raise ValueError(
                        f"the scorer returned {score!r}; a score must be a finite number"
                    )
            except Exception as exc:
                raise _task_error(probe.fold_, name, exc) from exc
            numbers[f"score{position}"] = score
        end = time.time()
        return numbers | {
            "fold": probe.fold_,
            "pid": os.getpid(),
            "start": probe.start_,
            "end": end,
        }


@dataclass(frozen=True)
class SearchInputs:
    """What scikit-learn is given for a list of tasks, and how its results map back.

    Attributes
    ----------
    X, y
        The workload's data.
    probe : Probe
        The estimator (its first candidate's models).
    candidates : list of dict
        ``param_grid`` entries, one per distinct tuple of models, in task order.
    cv : list of (train, test)
        The folds, by fold id.
    scoring : ProbeScoring
    params : dict
        Fit parameters: ``sample_index``, the row numbers.
    """

    X: Any
    y: Any
    probe: Probe
    candidates: list[dict[str, list[dict[str, Any]]]]
    cv: list[tuple[np.ndarray, np.ndarray]]
    scoring: ProbeScoring
    params: dict[str, np.ndarray]
    tasks: list[FoldTask]
    model_sets: list[tuple[str, ...]]

    def results(self, splits: Sequence[Mapping[str, Any]]) -> list[FoldResult]:
        """The task results, in task order, from each candidate's per-fold numbers.

        ``splits[c][key][k]`` is the number ``key`` (``score0``, ``pid``...) of candidate
        ``c`` on fold ``k``.
        """
        fold_ids = sorted({task.fold for task in self.tasks})
        results = []
        for task in self.tasks:
            numbers = splits[self.model_sets.index(task.models)]
            k = fold_ids.index(task.fold)
            scores = {name: float(numbers[f"score{i}"][k]) for i, name in enumerate(task.models)}
            if int(numbers["fold"][k]) != task.fold:
                raise RuntimeError(f"split {k} ran fold {numbers['fold'][k]}, not {task.fold}")
            pid, start, end = (numbers[key][k] for key in ("pid", "start", "end"))
            results.append(FoldResult(task.fold, scores, int(pid), float(start), float(end)))
        return results


def search_inputs(common: tuple[Any, ...], items: list[FoldTask]) -> SearchInputs:
    """The inputs of a search over ``items``: every model tuple on every fold.

    Raises
    ------
    ValueError
        If the tasks are not every model tuple on every fold (scikit-learn runs the
        product); the harness always hands over such a product.
    """
    X, y, models, scorer = common
    model_sets = list(dict.fromkeys(task.models for task in items))
    by_fold = {task.fold: task for task in items}
    if len(items) != len(model_sets) * len(by_fold):
        raise ValueError("scikit-learn runs every candidate on every fold: got a subset")
    cv = [(by_fold[k].train, by_fold[k].test) for k in sorted(by_fold)]
    folds = {_rows_key(train): k for k, (train, _) in zip(sorted(by_fold), cv, strict=True)}
    candidates = [{"estimators": [{n: models[n] for n in names}]} for names in model_sets]
    probe = Probe(candidates[0]["estimators"][0], folds)
    return SearchInputs(
        X,
        y,
        probe,
        candidates,
        cv,
        ProbeScoring(scorer),
        {"sample_index": np.arange(len(y))},
        list(items),
        model_sets,
    )


def is_fold_benchmark(fn: Callable[..., Any], items: Sequence[Any]) -> bool:
    """Whether ``fn`` over ``items`` is the fold benchmark over fold tasks."""
    return fn is benchmark_fold and all(isinstance(item, FoldTask) for item in items)


def parallel_calls(
    fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any], n_jobs: int
) -> list[Any]:
    """``fn(*common, item)`` for every item, through scikit-learn's ``Parallel(n_jobs)``."""
    from sklearn.utils.parallel import Parallel, delayed

    return list(Parallel(n_jobs=n_jobs)(delayed(fn)(*common, item) for item in items))


class OwnSearch(Executor):
    """What scikit-learn's own searches share: joblib's reusable loky workers, the data
    with every task, and their own task order (candidate by candidate)."""

    family = "scikit-learn"
    api = "sklearn"
    start_methods = ("loky",)
    data_modes = ("task",)
    takes_order = False

    def dispatch(
        self, workers: Any, fn: Callable[..., Any], common: tuple[Any, ...], items: list[Any]
    ) -> list[Any]:
        """The fold benchmark's tasks as scikit-learn's own search (:meth:`search`);
        another function through scikit-learn's ``Parallel`` on the same workers."""
        if not is_fold_benchmark(fn, items):
            with workers.running(self.deadline()):
                return parallel_calls(fn, common, items, self.workers)
        return self.search(workers, search_inputs(common, items))

    def search(self, workers: Any, task: SearchInputs) -> list[FoldResult]:
        """Run every candidate of ``task`` on every fold; the results in task order."""
        raise NotImplementedError

"""Hyperparameter searches as workloads: candidates x folds, as scikit-learn runs them.

:func:`search_workload` turns an estimator and a parameter grid (or distributions, for a
randomized search) into a :class:`~foldrace.workload.Workload` with one named model per
candidate, in the order ``GridSearchCV`` and ``RandomizedSearchCV`` try them
(``ParameterGrid``, ``ParameterSampler``). Every executor then races the same
candidates x folds tasks; :func:`rank_candidates` ranks the averaged scores as
scikit-learn does (``rank_test_score``, and the first candidate of rank 1 is selected),
so the race reports the candidate scikit-learn would select, checked bit for bit.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid, ParameterSampler

from foldrace.errors import InputError
from foldrace.workload import Workload, default_workload

__all__ = ["candidate_names", "plain_params", "rank_candidates", "search_workload"]


def search_workload(
    estimator: Any,
    param_grid: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    *,
    param_distributions: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    n_iter: int = 10,
    random_state: int | None = 0,
    X: Any = None,
    y: Any = None,
    folds: Any = 5,
    scoring: Any = None,
    name: str | None = None,
) -> Workload:
    """A workload that cross-validates every candidate of a search.

    Give ``param_grid`` for a grid search (every combination, as ``GridSearchCV``), or
    ``param_distributions`` with ``n_iter`` and ``random_state`` for a randomized search
    (as ``RandomizedSearchCV``: lists are sampled uniformly, distributions through their
    ``rvs``). Candidates are named by their parameters, prefixed with ``name``.

    Parameters
    ----------
    estimator : estimator
        The scikit-learn estimator whose parameters are searched.
    param_grid, param_distributions : dict or list of dicts
        Exactly one of them.
    n_iter : int
        Candidates drawn by a randomized search.
    random_state : int or None
        Seed of a randomized search's draws.
    X, y : array-like, optional
        Data; :func:`~foldrace.workload.default_workload`'s if omitted.
    folds : int, splitter or index pairs
        As for :class:`~foldrace.workload.Workload` (an int: ``StratifiedKFold``, as
        scikit-learn uses for classifiers); default 5, as ``GridSearchCV``'s ``cv``.
    scoring : str or callable, optional
        As for :class:`~foldrace.workload.Workload` (ROC-AUC if omitted).
    name : str, optional
        Prefix of the candidates' names; the estimator's class name if omitted.

    Raises
    ------
    InputError
        For a missing or doubled parameter space, a parameter the estimator does not
        have, or a search with no candidates.
    """
    if (param_grid is None) == (param_distributions is None):
        raise InputError("give either param_grid or param_distributions (one of them)")
    if not hasattr(estimator, "get_params") or not hasattr(estimator, "set_params"):
        raise InputError(f"the searched estimator must be a scikit-learn estimator: {estimator!r}")
    prefix = name or type(estimator).__name__
    try:
        if param_grid is not None:
            candidates = list(ParameterGrid(param_grid))
            kind = "grid"
        else:
            if isinstance(n_iter, bool) or not isinstance(n_iter, numbers.Integral) or n_iter < 1:
                raise InputError(f"n_iter must be an integer of at least 1, got {n_iter!r}")
            sampler = ParameterSampler(param_distributions, n_iter, random_state=random_state)
            candidates = list(sampler)
            kind = f"random ({n_iter} draws, seed {random_state})"
    except (TypeError, ValueError) as exc:
        raise InputError(f"bad parameter space: {exc}") from None
    if not candidates:
        raise InputError("the search has no candidates")
    known = estimator.get_params()
    unknown = sorted({key for params in candidates for key in params} - set(known))
    if unknown:
        raise InputError(
            f"{type(estimator).__name__} has no parameter {unknown[0]!r}; "
            f"it has: {', '.join(sorted(known))}"
        )
    names = candidate_names(prefix, candidates)
    models = {n: clone(estimator).set_params(**p) for n, p in zip(names, candidates, strict=True)}
    if X is None and y is None:
        base = default_workload()
        X, y = base.X, base.y
    elif X is None or y is None:
        raise InputError("give both X and y, or neither (for the default data)")
    n, p = np.shape(X)[0], (np.shape(X)[1] if np.ndim(X) > 1 else 1)
    workload = Workload(X, y, models, folds=folds, scorer=scoring, name=f"{prefix}-search")
    described = (
        f"{kind} search over {type(estimator).__name__}: {len(candidates)} candidates x "
        f"{len(workload.folds)} folds, {n} x {p} samples"
    )
    return Workload(
        workload.X,
        workload.y,
        models,
        folds=workload.folds,
        scorer=workload.scorer,
        name=workload.name,
        description=described,
        candidates=dict(zip(names, (plain_params(c) for c in candidates), strict=True)),
    )


def candidate_names(prefix: str, candidates: Sequence[Mapping[str, Any]]) -> list[str]:
    """``prefix(key=value, ...)`` for each candidate, floats to 4 significant digits.

    Names that would repeat (two draws that round alike) get ``#2``, ``#3``... appended.
    """
    names: list[str] = []
    for params in candidates:
        shown = ", ".join(f"{key}={_short(value)}" for key, value in params.items())
        label = f"{prefix}({shown})"
        if label in names:
            count = 2
            while f"{label}#{count}" in names:
                count += 1
            label = f"{label}#{count}"
        names.append(label)
    return names


def _short(value: Any) -> str:
    if isinstance(value, float | np.floating) and math.isfinite(value):
        return f"{float(value):.4g}"
    if isinstance(value, np.integer):
        return str(int(value))
    return repr(value)


def plain_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as JSON-safe values: numbers, strings, booleans, None, else their repr."""
    plain: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, bool | str) or value is None:
            plain[key] = value
        elif isinstance(value, numbers.Integral):
            plain[key] = int(value)
        elif isinstance(value, numbers.Real) and math.isfinite(value):
            plain[key] = float(value)
        else:
            plain[key] = repr(value)
    return plain


def rank_candidates(means: Mapping[str, float]) -> pd.DataFrame:
    """Rank candidates by mean score as scikit-learn does; in candidate order.

    ``rank_test_score`` is ``rankdata(-mean, method="min")`` (ties share the best rank),
    and the selected candidate is the first of rank 1 (``best_index_``). Columns:
    candidate, mean_test_score, rank_test_score, selected.
    """
    names = list(means)
    scores = np.array([means[n] for n in names], dtype=float)
    ranks = rankdata(-scores, method="min").astype(int)
    best = int(np.argmin(ranks)) if len(ranks) else -1
    return pd.DataFrame(
        {
            "candidate": names,
            "mean_test_score": scores,
            "rank_test_score": ranks,
            "selected": [i == best for i in range(len(names))],
        }
    )

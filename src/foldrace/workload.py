"""The problem every executor races on: data, folds, models and a scorer.

``default_workload()`` reproduces the classic blog set-up (1000 samples, 20 features,
3 stratified folds, a logistic regression and a random forest, ROC-AUC). ``Workload``
takes your own data, any scikit-learn splitter or explicit index pairs, a name-to-estimator
mapping and a scorer, and checks them before any work starts.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer, make_scorer, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, check_cv
from sklearn.utils import get_tags

from foldrace.errors import InputError
from foldrace.fold import FoldTask

__all__ = ["GRANULARITIES", "ROC_AUC", "Workload", "default_models", "default_workload"]

GRANULARITIES = ("fold", "fold-model")
"""How work is cut into tasks: one per fold, or one per fold and model."""

ROC_AUC = make_scorer(roc_auc_score, response_method="predict_proba")
"""ROC-AUC of the positive class's predicted probability, as the blog computes it."""

Folds = tuple[tuple[np.ndarray, np.ndarray], ...]

MAX_SEED = 2**32 - 1
"""The largest seed NumPy's random generators take."""


def default_models(random_state: int = 0) -> dict[str, Any]:
    """The blog's two candidate models, with a fixed forest seed so scores repeat.

    Parameters
    ----------
    random_state : int
        Seed of the random forest.
    """
    return {
        "logit": LogisticRegression(solver="liblinear"),
        "rf": RandomForestClassifier(
            n_estimators=100, min_samples_leaf=20, random_state=random_state
        ),
    }


@dataclass(frozen=True, eq=False)
class Workload:
    """Data, folds, models and scorer for a race, checked on construction.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features: a NumPy array or a pandas DataFrame.
    y : array-like of shape (n_samples,)
        Binary target.
    models : mapping of str to estimator
        Candidate models by name; each task fits a fresh clone.
    folds : int, splitter or iterable of (train, test) index pairs
        An int means ``StratifiedKFold(folds)``, as ``check_cv`` makes it for a classifier
        (``StratifiedGroupKFold(folds)`` when ``groups`` are given, so that no group is in
        two folds); a splitter is anything with ``split(X, y, groups)``; index pairs are
        used as given. Stored as index pairs.
    scorer : str or callable, optional
        A scikit-learn scoring name or ``scorer(estimator, X, y)``. Defaults to
        :data:`ROC_AUC`, which needs ``predict_proba``.
    name : str
        Short label used in tables and figure captions.
    description : str
        One line describing the data and folds, for captions.
    candidates : mapping of str to dict, optional
        For a search (see :func:`foldrace.search.search_workload`): each model's name and
        the parameters it was made with, in candidate order.
    groups : array-like of shape (n_samples,), optional
        Group labels, handed to the splitter (``GroupKFold`` and its kin need them).

    Raises
    ------
    InputError
        If the data, folds or models cannot be raced (see :meth:`validate`).
    """

    X: Any = field(repr=False)
    y: Any = field(repr=False)
    models: Mapping[str, Any]
    folds: Any = 3
    scorer: Any = None
    name: str = "custom"
    description: str = ""
    candidates: Mapping[str, Mapping[str, Any]] | None = None
    groups: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        y = np.asarray(self.y) if not hasattr(self.y, "iloc") else self.y
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "models", dict(self.models))
        scorer = ROC_AUC if self.scorer is None else self.scorer
        if isinstance(scorer, str):
            try:
                scorer = get_scorer(scorer)
            except ValueError as exc:
                raise InputError(f"unknown scoring {self.scorer!r}: {exc}") from None
        object.__setattr__(self, "scorer", scorer)
        features = _scan_features(self.X)
        self._check_data(features)
        if self.groups is not None:
            groups = np.asarray(self.groups)
            if groups.shape != (self.shape[0],):
                raise InputError(
                    f"groups must hold one label per sample ({self.shape[0]}), "
                    f"got shape {groups.shape}"
                )
            object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "folds", self._materialise_folds(self.folds))
        self._check_models(features)
        if self.candidates is not None and list(self.candidates) != list(self.models):
            raise InputError("candidates must name exactly the models, in the same order")
        if not self.description:
            n, p = self.shape
            described = f"{n} samples x {p} features, {len(self.folds)} folds"
            object.__setattr__(self, "description", described)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_samples, n_features)`` of ``X``."""
        shape = np.shape(self.X)
        return int(shape[0]), int(shape[1]) if len(shape) > 1 else 1

    @property
    def model_names(self) -> tuple[str, ...]:
        """Names of the models, in the order given."""
        return tuple(self.models)

    @property
    def common_args(self) -> tuple[Any, Any, Mapping[str, Any], Callable[..., float]]:
        """The arguments of :func:`~foldrace.fold.benchmark_fold` shared by every task."""
        return (self.X, self.y, self.models, self.scorer)

    def tasks(self, granularity: str = "fold") -> list[FoldTask]:
        """The tasks of one cross-validation, in fold order.

        Parameters
        ----------
        granularity : {"fold", "fold-model"}
            ``"fold"``: one task per fold fitting every model, as the blog does.
            ``"fold-model"``: one task per fold and model, so more, smaller tasks.

        Raises
        ------
        InputError
            For an unknown granularity.
        """
        if granularity not in GRANULARITIES:
            raise InputError(
                f"unknown granularity {granularity!r}; known: {', '.join(GRANULARITIES)}"
            )
        groups = [self.model_names] if granularity == "fold" else [(m,) for m in self.models]
        return [
            FoldTask(fold, train, test, models)
            for fold, (train, test) in enumerate(self.folds)
            for models in groups
        ]

    def _check_data(self, features: _Features) -> None:
        n_samples = np.shape(self.X)[0] if np.ndim(self.X) else 0
        y = np.asarray(self.y)
        if y.ndim != 1:
            raise InputError(f"y must be one-dimensional, got shape {y.shape}")
        if len(y) == 0 or n_samples == 0:
            raise InputError("X and y are empty: there is nothing to cross-validate")
        if len(y) != n_samples:
            raise InputError(f"X has {n_samples} samples but y has {len(y)}: lengths must match")
        missing = int(pd.isna(y).sum())
        if missing:
            raise InputError(
                f"the target y has {missing} missing value{'s' * (missing > 1)}; "
                "drop those rows or fill them in first"
            )
        if features.infinite:
            raise InputError(
                f"X {_columns(features.infinite)} infinite values; replace them or drop "
                "those rows first"
            )
        classes = np.unique(y)
        if len(classes) < 2:
            raise InputError(f"y has a single class ({classes[0]!r}); at least two are needed")
        if self.scorer is ROC_AUC and len(classes) != 2:
            raise InputError(f"ROC-AUC needs a binary target; y has {len(classes)} classes")

    def _materialise_folds(self, folds: Any) -> Folds:
        y = np.asarray(self.y)
        counts = np.unique(y, return_counts=True)
        if isinstance(folds, numbers.Integral) and not isinstance(folds, bool):
            n_splits = int(folds)
            if n_splits < 2:
                raise InputError(f"folds: at least 2 are needed, got {n_splits}")
            grouped = StratifiedGroupKFold(n_splits) if self.groups is not None else None
            folds = grouped or check_cv(n_splits, y, classifier=True)
        text = isinstance(folds, str | bytes)  # strings have a split method too
        if hasattr(folds, "split") and not text:
            pairs = self._split(folds, y, counts)
        elif isinstance(folds, Iterable) and not text:
            pairs = list(folds)
        else:
            raise InputError(
                f"folds must be an int, a splitter or (train, test) index pairs, got {folds!r}"
            )
        if not pairs:
            raise InputError("folds: no (train, test) pairs were given")
        checked = []
        for fold, pair in enumerate(pairs):
            try:
                train, test = (np.asarray(part, dtype=np.intp) for part in pair)
            except (TypeError, ValueError):
                raise InputError(f"fold {fold} is not a (train, test) pair of indices") from None
            for part, indices in (("training", train), ("test", test)):
                if indices.size == 0:
                    raise InputError(f"fold {fold} has an empty {part} set")
                if indices.min() < -len(y) or indices.max() >= len(y):
                    raise InputError(f"fold {fold} has {part} indices outside 0..{len(y) - 1}")
                if len(np.unique(y[indices])) < 2:
                    raise InputError(
                        f"fold {fold}'s {part} set holds a single class; "
                        "use a stratified splitter or fewer folds"
                    )
            checked.append((train, test))
        return tuple(checked)

    def _split(
        self, splitter: Any, y: np.ndarray, counts: tuple[np.ndarray, np.ndarray]
    ) -> list[Any]:
        groups = self.groups
        n_splits = (
            splitter.get_n_splits(self.X, y, groups) if hasattr(splitter, "get_n_splits") else None
        )
        if n_splits is not None and n_splits < 2:
            raise InputError(f"folds: at least 2 are needed, got {n_splits}")
        smallest = int(counts[1].min())
        if n_splits is not None and n_splits > smallest:
            label = counts[0][counts[1].argmin()].item()
            raise InputError(
                f"{n_splits} folds are more than the smallest class allows "
                f"(class {label!r} has {smallest} samples)"
            )
        try:
            return list(splitter.split(self.X, y, groups))
        except ValueError as exc:
            if groups is None and "groups" in str(exc):
                raise InputError(
                    f"folds: {type(splitter).__name__} splits by group: give groups= (one "
                    "label per sample), or --groups COLUMN with --data"
                ) from None
            raise InputError(f"folds: {exc}") from None

    def _check_models(self, features: _Features) -> None:
        if not self.models:
            raise InputError("models: at least one estimator is needed")
        for name, estimator in self.models.items():
            if not isinstance(name, str) or not name.strip():
                raise InputError(f"model names must be non-empty strings, got {name!r}")
            if not hasattr(estimator, "fit") or not hasattr(estimator, "get_params"):
                raise InputError(f"model {name!r} is not a scikit-learn estimator: {estimator!r}")
            _check_params(name, estimator)
            if self.scorer is ROC_AUC and not hasattr(estimator, "predict_proba"):
                raise InputError(
                    f"model {name!r} ({type(estimator).__name__}) has no predict_proba, which "
                    "ROC-AUC needs; enable probabilities (e.g. SVC(probability=True)) "
                    "or pass another scorer"
                )
            if features.text and not _accepts_text(estimator):
                column, value = next(iter(features.text.items()))
                raise InputError(
                    f"X column {column} is not numeric (it holds {value!r}) and model {name!r} "
                    f"({type(estimator).__name__}) needs numbers; encode or drop the column"
                )
            if features.nan and not _allows_nan(estimator):
                raise InputError(
                    f"X contains NaN and model {name!r} ({type(estimator).__name__}) "
                    f"cannot handle missing values; impute them first ({_columns(features.nan)} "
                    "NaN)"
                )


@dataclass(frozen=True)
class _Features:
    """Feature columns that not every estimator can take, by label."""

    text: dict[str, Any]  # non-numeric columns, with a value that is not a number
    nan: list[str]  # columns holding NaN
    infinite: list[str]  # columns holding +inf or -inf


def _scan_features(X: Any) -> _Features:
    """Find the non-numeric, NaN and infinite feature columns of ``X``."""
    text: dict[str, Any] = {}
    nan: list[str] = []
    infinite: list[str] = []
    if hasattr(X, "tocsr"):  # a sparse matrix: only its stored values
        columns = [("values", X.data)]
    elif hasattr(X, "items") and hasattr(X, "columns"):  # a DataFrame
        columns = [(repr(c) if isinstance(c, str) else str(c), col) for c, col in X.items()]
    else:
        array = np.asarray(X)
        if array.ndim == 2 and array.dtype.kind in "biuf":  # the common case, at once
            nan = [str(j) for j in np.flatnonzero(np.isnan(array).any(axis=0))]
            infinite = [str(j) for j in np.flatnonzero(np.isinf(array).any(axis=0))]
            return _Features(text, nan, infinite)
        columns = [(str(j), array[:, j]) for j in range(array.shape[1])] if array.ndim == 2 else []
    for label, column in columns:
        if isinstance(getattr(column, "dtype", None), pd.CategoricalDtype):
            continue  # categories: left to the estimators that take them
        values = np.asarray(column)
        if values.dtype.kind in "biu":
            continue
        if values.dtype.kind == "f":
            as_float = values
        else:
            as_float = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
            not_numbers = np.isnan(as_float) & ~pd.isna(values)
            if not_numbers.any():
                text[label] = values[np.argmax(not_numbers)]
                continue
        if np.isnan(as_float).any():
            nan.append(label)
        if np.isinf(as_float).any():
            infinite.append(label)
    return _Features(text, nan, infinite)


def _columns(labels: list[str]) -> str:
    """``column 'a' holds`` or ``columns 'a', 'b' hold``, for a message."""
    shown = ", ".join(labels[:5]) + (", ..." if len(labels) > 5 else "")
    return f"column {shown} holds" if len(labels) == 1 else f"columns {shown} hold"


def _check_params(name: str, estimator: Any) -> None:
    """Let a scikit-learn estimator check its own parameters, as ``fit`` would."""
    if not hasattr(estimator, "_parameter_constraints") or not hasattr(
        estimator, "_validate_params"
    ):
        return
    try:
        clone(estimator)._validate_params()
    except Exception as exc:
        reason = " ".join(str(exc).split())
        raise InputError(
            f"model {name!r} ({type(estimator).__name__}) has a bad parameter: {reason}"
        ) from None


def _accepts_text(estimator: Any) -> bool:
    """Whether an estimator may take non-numeric columns: a pipeline or column transformer
    (which may encode them first), or one whose tags say it takes strings."""
    if hasattr(estimator, "steps") or hasattr(estimator, "transformers"):
        return True
    try:
        return bool(get_tags(estimator).input_tags.string)
    except (AttributeError, TypeError, ValueError):  # no tags: let the estimator decide
        return True


def _allows_nan(estimator: Any) -> bool:
    """Whether an estimator's tags (``sklearn.utils.get_tags``) say it takes NaN input."""
    try:
        return bool(get_tags(estimator).input_tags.allow_nan)
    except (AttributeError, TypeError, ValueError):  # no tags: let the estimator decide
        return True


def _check_memory(n_samples: int, n_features: int) -> None:
    """Refuse data that would take more than half of this machine's memory."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows)
        return
    needed = n_samples * n_features * np.dtype(np.float64).itemsize
    if memory > 0 and needed > memory / 2:
        raise InputError(
            f"samples x features = {n_samples} x {n_features} would need {needed / 1e9:.1f} GB "
            f"for X alone, more than half of this machine's {memory / 1e9:.1f} GB of memory; "
            "use fewer samples or features"
        )


def default_workload(
    n_samples: int = 1000,
    n_features: int = 20,
    n_folds: int = 3,
    seed: int = 123,
    model_seed: int = 0,
) -> Workload:
    """The blog's workload, with sizes as parameters.

    ``make_classification(n_samples, n_features, n_informative=10, random_state=seed)``,
    ``StratifiedKFold(n_folds, shuffle=True, random_state=seed)``, models from
    :func:`default_models`, scored by ROC-AUC.

    Parameters
    ----------
    n_samples : int
        Number of samples.
    n_features : int
        Number of features (at least 2); up to 10 of them are informative.
    n_folds : int
        Number of cross-validation folds (at least 2).
    seed : int
        Seed of the data and of the fold shuffle.
    model_seed : int
        Seed of the random forest.

    Raises
    ------
    InputError
        If a size is not a positive integer, the seed is above :data:`MAX_SEED`, the data
        would take more than half of the machine's memory, or the folds cannot be made.
    """
    sizes = {"samples": n_samples, "features": n_features, "folds": n_folds, "seed": seed}
    for label, value in sizes.items():
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise InputError(f"{label} must be an integer, got {value!r}")
    if n_samples < 4:
        raise InputError(f"samples must be at least 4, got {n_samples}")
    if n_features < 2:
        raise InputError(f"features must be at least 2, got {n_features}")
    if n_folds < 2:
        raise InputError(f"folds must be at least 2, got {n_folds}")
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed must be an integer from 0 to {MAX_SEED} (2**32 - 1), got {seed}")
    _check_memory(n_samples, n_features)
    n_informative = min(10, n_features)
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_informative,
        n_redundant=min(2, n_features - n_informative),
        random_state=seed,
    )
    return Workload(
        X,
        y,
        default_models(model_seed),
        folds=StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed),
        name="default",
        description=(
            f"make_classification({n_samples} x {n_features}, seed {seed}), "
            f"{n_folds} stratified folds, logit + rf, ROC-AUC"
        ),
    )

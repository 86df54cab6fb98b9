"""Estimators with controlled cost and failures, for tests, tutorials and demonstrations.

They live in the package (not in a test file) so that worker processes can import them
under every start method.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

__all__ = ["FailingClassifier", "SlowClassifier", "uneven_folds"]


class SlowClassifier(ClassifierMixin, BaseEstimator):
    """A logistic regression whose ``fit`` first sleeps in proportion to the training size.

    Parameters
    ----------
    seconds_per_sample : float
        Sleep this long per training sample before fitting.
    """

    def __init__(self, seconds_per_sample: float = 1e-3) -> None:
        self.seconds_per_sample = seconds_per_sample

    def fit(self, X: Any, y: Any) -> SlowClassifier:
        """Sleep, then fit a logistic regression."""
        time.sleep(self.seconds_per_sample * len(X))
        self.model_ = LogisticRegression(solver="liblinear").fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the fitted logistic regression."""
        return self.model_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted classes of the fitted logistic regression."""
        return self.model_.predict(X)


class FailingClassifier(SlowClassifier):
    """A :class:`SlowClassifier` whose ``fit`` raises ``ValueError`` on small training sets.

    Parameters
    ----------
    fail_below : int
        Raise when fitted on fewer training samples than this.
    seconds_per_sample : float
        As for :class:`SlowClassifier`.
    spare_pid : int, optional
        Never raise in the process with this id (pass ``os.getpid()`` to fail only in
        worker processes, so a serial reference run still succeeds).
    """

    def __init__(
        self, fail_below: int = 0, seconds_per_sample: float = 0.0, spare_pid: int | None = None
    ) -> None:
        super().__init__(seconds_per_sample)
        self.fail_below = fail_below
        self.spare_pid = spare_pid

    def fit(self, X: Any, y: Any) -> FailingClassifier:
        """Raise ``ValueError`` for a small training set, otherwise fit."""
        if len(X) < self.fail_below and os.getpid() != self.spare_pid:
            raise ValueError(f"refusing to fit on {len(X)} samples (fail_below={self.fail_below})")
        return super().fit(X, y)


def uneven_folds(
    n_samples: int,
    train_sizes: tuple[int, ...] = (540, 200, 100),
    test_size: int = 60,
    seed: int = 0,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Explicit folds whose training sets shrink from first to last, so costs differ.

    Each fold's test rows are disjoint; its training rows are drawn from the other rows.
    With :class:`SlowClassifier` the first fold takes longest, so on two or more workers
    the folds finish out of order.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_samples)
    folds = []
    for fold, size in enumerate(train_sizes):
        test = order[fold * test_size : (fold + 1) * test_size]
        rest = np.setdiff1d(order, test)
        folds.append((rng.permutation(rest)[:size], test))
    return folds

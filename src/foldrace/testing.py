"""Estimators with controlled cost and failures, for tests, tutorials and demonstrations.

They live in the package (not in a test file) so that worker processes can import them
under every start method.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

__all__ = [
    "CrashingClassifier",
    "DriftingClassifier",
    "FailingClassifier",
    "NoisyClassifier",
    "SlowClassifier",
    "cross_validated_means",
    "inner_threads",
    "os_threads",
    "uneven_folds",
]


# scikit-learn ships no type information, so its base classes are ``Any`` to mypy.
class SlowClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A logistic regression whose ``fit`` first sleeps in proportion to the training size.

    Parameters
    ----------
    seconds_per_sample : float
        Sleep this long per training sample before fitting.
    spare_pid : int, optional
        In the main thread of the process with this id, behave as a plain logistic
        regression: no sleep and, in the subclasses, no fault. Pass ``os.getpid()`` so a
        serial reference run in this process stays quick and clean while worker processes
        and worker threads are slow or faulty.
    stamp_file : str, optional
        Append the wall-clock time (``time.time()``) to this file when ``fit`` starts in
        an unspared process, before any sleep or fault: the earliest line is the origin
        for measuring time to detection. The line of a fit that faults (in the subclasses
        below) ends in `` fault``, so the fault's own moment can be told from the others.
    end_file : str, optional
        Append the wall-clock time to this file when the sleep of an unspared ``fit``
        ends: a race that fails fast returns before any such line is written.
    """

    def __init__(
        self,
        seconds_per_sample: float = 1e-3,
        spare_pid: int | None = None,
        stamp_file: str | None = None,
        end_file: str | None = None,
    ) -> None:
        self.seconds_per_sample = seconds_per_sample
        self.spare_pid = spare_pid
        self.stamp_file = stamp_file
        self.end_file = end_file

    def _stamp(self, file: str | None, mark: str = "") -> None:
        if file and not self.spared:
            with open(file, "a") as handle:
                handle.write(f"{time.time()!r}{mark}\n")

    @property
    def spared(self) -> bool:
        """True in the main thread of the spared process."""
        return (
            os.getpid() == self.spare_pid and threading.current_thread() is threading.main_thread()
        )

    def fit(self, X: Any, y: Any) -> SlowClassifier:
        """Sleep, then fit a logistic regression."""
        if not self.spared:
            self._stamp(self.stamp_file)
            time.sleep(self.seconds_per_sample * len(X))
            self._stamp(self.end_file)
        return self._fit(X, y)

    def _fit(self, X: Any, y: Any) -> SlowClassifier:
        self.model_ = LogisticRegression(solver="liblinear").fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the fitted logistic regression."""
        proba: np.ndarray = self.model_.predict_proba(X)
        return proba

    def predict(self, X: Any) -> np.ndarray:
        """Predicted classes of the fitted logistic regression."""
        classes: np.ndarray = self.model_.predict(X)
        return classes


class FailingClassifier(SlowClassifier):
    """A :class:`SlowClassifier` whose ``fit`` raises ``ValueError`` on small training sets.

    Parameters
    ----------
    fail_below : int
        Raise when fitted on fewer training samples than this.
    seconds_per_sample, spare_pid, stamp_file, end_file
        As for :class:`SlowClassifier`.
    """

    def __init__(
        self,
        fail_below: int = 0,
        seconds_per_sample: float = 0.0,
        spare_pid: int | None = None,
        stamp_file: str | None = None,
        end_file: str | None = None,
    ) -> None:
        super().__init__(seconds_per_sample, spare_pid, stamp_file, end_file)
        self.fail_below = fail_below

    def fit(self, X: Any, y: Any) -> FailingClassifier:
        """Raise ``ValueError`` for a small training set, otherwise fit."""
        if len(X) < self.fail_below and not self.spared:
            self._stamp(self.stamp_file, " fault")
            raise ValueError(f"refusing to fit on {len(X)} samples (fail_below={self.fail_below})")
        return super().fit(X, y)


class CrashingClassifier(SlowClassifier):
    """A :class:`SlowClassifier` whose process dies in ``fit`` on small training sets.

    The death is what an out-of-memory kill or a segfault does to a worker: no exception,
    no result, the process is simply gone.

    Parameters
    ----------
    crash_below : int
        Die when fitted on fewer training samples than this.
    how : {"exit", "kill"}
        ``os._exit(1)``, or ``SIGKILL`` sent to itself.
    seconds_per_sample, spare_pid, stamp_file, end_file
        As for :class:`SlowClassifier`.
    """

    def __init__(
        self,
        crash_below: int = 0,
        how: str = "exit",
        seconds_per_sample: float = 0.0,
        spare_pid: int | None = None,
        stamp_file: str | None = None,
        end_file: str | None = None,
    ) -> None:
        super().__init__(seconds_per_sample, spare_pid, stamp_file, end_file)
        self.crash_below = crash_below
        self.how = how

    def fit(self, X: Any, y: Any) -> CrashingClassifier:
        """Kill this process for a small training set, otherwise fit."""
        if len(X) < self.crash_below and not self.spared:
            self._stamp(self.stamp_file, " fault")
            if self.how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            os._exit(1)
        return super().fit(X, y)


class NoisyClassifier(SlowClassifier):
    """A logistic regression whose probabilities get fresh random noise on every call.

    Its scores differ from run to run, like a random forest without ``random_state``:
    the identical-scores check must catch it. ROC-AUC only counts how the test rows rank,
    so two runs can still tie by chance (about 1 in 600 on 100 test rows a fold): compare
    several runs (``repeats=3``) to make a tie of all of them practically impossible.
    """

    def predict_proba(self, X: Any) -> np.ndarray:
        """Noisy class probabilities, from an unseeded generator."""
        proba = super().predict_proba(X)
        noise = np.random.default_rng().uniform(-0.2, 0.2, size=len(proba))
        positive = np.clip(proba[:, 1] + noise, 0.0, 1.0)
        return np.column_stack([1.0 - positive, positive])


class DriftingClassifier(SlowClassifier):
    """A logistic regression whose scores differ, deterministically, outside one process.

    In the spared process (``spare_pid``, main thread) it predicts as a logistic regression;
    anywhere else it turns its probabilities around, so its ROC-AUC becomes ``1 - AUC``:
    a difference between executors that the identical-scores check must catch, every time,
    without any chance involved.
    """

    def predict_proba(self, X: Any) -> np.ndarray:
        """The logistic regression's probabilities, turned around off the spared process."""
        proba = super().predict_proba(X)
        return proba if self.spared else proba[:, ::-1].copy()


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


def inner_threads(*args: object) -> int:
    """The most threads any loaded BLAS/OpenMP library would use here (a trivial task that
    ignores its arguments)."""
    import sklearn.ensemble  # noqa: F401 - loads scikit-learn's OpenMP runtime
    from threadpoolctl import threadpool_info

    return max((info["num_threads"] for info in threadpool_info()), default=1)


def os_threads(*args: object) -> int:
    """Threads this process runs right now, as the OS counts them (Linux ``/proc``; a
    trivial task that ignores its arguments)."""
    return len(os.listdir("/proc/self/task"))


def cross_validated_means(workload: Any, n_jobs: int | None = None) -> dict[str, float]:
    """scikit-learn's own averaged scores: ``cross_validate`` once per model, same folds.

    The reference foldrace's averages must equal bit for bit (``numpy.mean`` of the
    per-fold scores, in fold order, as foldrace averages them).
    """
    from sklearn.model_selection import cross_validate

    folds = list(workload.folds)
    return {
        name: float(
            np.mean(
                cross_validate(
                    estimator,
                    workload.X,
                    workload.y,
                    cv=folds,
                    scoring=workload.scorer,
                    n_jobs=n_jobs,
                )["test_score"]
            )
        )
        for name, estimator in workload.models.items()
    }

"""The one fold-benchmark function and its records."""

from __future__ import annotations

import math
import os
import pickle
import threading

import pytest
from sklearn.exceptions import NotFittedError
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted

from foldrace import FoldResult, FoldTaskError, RaceError, Workload, benchmark_fold, race
from foldrace.testing import FailingClassifier


def test_result_records_fold_scores_pid_and_times(small_workload):
    task = small_workload.tasks()[1]
    result = benchmark_fold(*small_workload.common_args, task)
    assert isinstance(result, FoldResult)
    assert result.fold == 1
    assert set(result.scores) == {"logit", "rf"}
    assert all(isinstance(score, float) for score in result.scores.values())
    assert result.pid == os.getpid()
    assert 0 < result.duration == result.end - result.start


def test_models_are_cloned_never_fitted_in_place(small_workload):
    benchmark_fold(*small_workload.common_args, small_workload.tasks()[0])
    for estimator in small_workload.models.values():
        with pytest.raises(NotFittedError):
            check_is_fitted(estimator)


def test_a_task_may_fit_a_subset_of_models(small_workload):
    task = small_workload.tasks()[0]
    subset = type(task)(task.fold, task.train, task.test, ("rf",))
    assert set(benchmark_fold(*small_workload.common_args, subset).scores) == {"rf"}


def test_a_failing_model_names_fold_and_model_and_chains_the_cause(small_workload):
    workload = Workload(
        small_workload.X, small_workload.y, {"bad": FailingClassifier(fail_below=10_000)}
    )
    with pytest.raises(FoldTaskError, match=r"fold 2, model 'bad': ValueError: refusing") as info:
        benchmark_fold(*workload.common_args, workload.tasks()[2])
    assert isinstance(info.value.__cause__, ValueError)
    copy = pickle.loads(pickle.dumps(info.value))  # must cross process boundaries
    assert (copy.fold, copy.model, str(copy)) == (2, "bad", str(info.value))


class OddScorer:
    """Scores ``value`` (NaN or infinite), except in the main thread of ``spare_pid``."""

    def __init__(self, value: float, spare_pid: int | None = None) -> None:
        self.value = value
        self.spare_pid = spare_pid

    def __call__(self, estimator, X, y) -> float:
        spared = os.getpid() == self.spare_pid and threading.current_thread() is (
            threading.main_thread()
        )
        return 0.5 if spared else self.value


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_score_that_is_not_finite_fails_the_task(small_workload, value):
    workload = Workload(
        small_workload.X, small_workload.y, small_workload.models, scorer=OddScorer(value)
    )
    with pytest.raises(FoldTaskError, match=r"fold 1, model 'logit': ValueError: .* returned"):
        benchmark_fold(*workload.common_args, workload.tasks()[1])


@pytest.mark.parametrize("name", ["serial", "starmap", "map/thread"])
def test_a_nan_score_fails_the_race_naming_executor_fold_and_model(small_workload, name):
    spare = None if name == "serial" else os.getpid()  # serial is the executor under test
    models = {"tree": DecisionTreeClassifier(random_state=0)}
    workload = Workload(
        small_workload.X, small_workload.y, models, scorer=OddScorer(math.nan, spare)
    )
    with pytest.raises(RaceError) as info:
        race(workload, [name], [1 if name == "serial" else 2], repeats=1, warmup=0)
    assert info.value.executor == name
    fold = info.value.fold  # whichever fold a worker finished first
    assert fold in (0, 1, 2)
    assert f"fold {fold}, model 'tree': ValueError: the scorer returned nan" in str(info.value)

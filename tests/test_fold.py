"""The one fold-benchmark function and its records."""

from __future__ import annotations

import os
import pickle

import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from foldrace import FoldResult, FoldTaskError, Workload, benchmark_fold
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

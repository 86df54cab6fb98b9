"""Every executor in the registry: identical scores, fold order, worker counts, lifetime."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import warnings

import numpy as np
import pytest
from sklearn.model_selection import cross_validate

from foldrace import (
    EXECUTORS,
    InputError,
    Workload,
    benchmark_fold,
    executor_names,
    get_executor,
    mean_scores,
)
from foldrace.executors import DEFAULT_START_METHOD, max_workers, usable_cpus
from foldrace.testing import FailingClassifier, SlowClassifier, uneven_folds

PARALLEL = [name for name, cls in EXECUTORS.items() if cls.parallel]
CELLS = [("serial", 1)] + [(name, w) for name in PARALLEL for w in (1, 2)]


def _run(name, workers, workload):
    with get_executor(name)(workers) as executor:
        return executor.run(benchmark_fold, workload.common_args, workload.tasks())


def test_registry_lists_the_five_pool_strategies_serial_first():
    assert executor_names() == ("serial", "apply", "apply_async", "map", "starmap")
    for name, cls in EXECUTORS.items():
        assert cls.name == name
        assert cls.summary


def test_unknown_executor_lists_the_known_ones():
    with pytest.raises(InputError, match="unknown executor 'nope'; known executors: serial, apply"):
        get_executor("nope")


@pytest.fixture(scope="module")
def cross_validated(seed_workload, custom_workload):
    """scikit-learn's own averages on the same folds, estimators and scorer."""
    return {
        workload.name: {
            name: float(
                np.mean(
                    cross_validate(
                        estimator,
                        workload.X,
                        workload.y,
                        cv=list(workload.folds),
                        scoring=workload.scorer,
                    )["test_score"]
                )
            )
            for name, estimator in workload.models.items()
        }
        for workload in (seed_workload, custom_workload)
    }


@pytest.mark.parametrize("workload_name", ["seed_workload", "custom_workload"])
@pytest.mark.parametrize(("name", "workers"), CELLS)
def test_scores_equal_serial_and_cross_validate_bitwise(
    request, cross_validated, workload_name, name, workers
):
    workload: Workload = request.getfixturevalue(workload_name)
    results = _run(name, workers, workload)
    averages = mean_scores(results)
    serial = mean_scores(_run("serial", 1, workload))
    assert averages == serial  # float equality: bit for bit
    assert averages == cross_validated[workload.name]


@pytest.fixture(scope="module")
def uneven_workload(small_workload):
    return Workload(
        small_workload.X,
        small_workload.y,
        {"slow": SlowClassifier(seconds_per_sample=1e-3)},
        folds=uneven_folds(len(small_workload.y), train_sizes=(240, 80, 40), test_size=20),
    )


@pytest.mark.parametrize("name", ["apply_async", "map", "starmap"])
def test_results_come_back_in_fold_order_when_completion_order_differs(uneven_workload, name):
    results = _run(name, 2, uneven_workload)
    assert [r.fold for r in results] == [0, 1, 2]
    finished = [r.fold for r in sorted(results, key=lambda r: r.end)]
    assert finished != [0, 1, 2], "fold 0 is the slowest: it must finish after another fold"
    assert len({r.pid for r in results}) == 2


def test_apply_keeps_one_task_running_at_a_time(uneven_workload):
    results = _run("apply", 2, uneven_workload)
    for before, after in itertools.pairwise(results):
        assert before.end <= after.start


@pytest.mark.parametrize("name", PARALLEL)
def test_a_failing_task_raises_with_its_fold_named(small_workload, name):
    workload = Workload(
        small_workload.X,
        small_workload.y,
        {"bad": FailingClassifier(fail_below=60)},
        folds=uneven_folds(len(small_workload.y), train_sizes=(240, 80, 40), test_size=20),
    )
    with pytest.raises(Exception, match=r"fold 2, model 'bad': ValueError"):
        _run(name, 2, workload)


@pytest.mark.parametrize("name", executor_names())
@pytest.mark.parametrize("workers", [0, -1, 1.5, "2", True, None])
def test_bad_worker_counts_are_refused(name, workers):
    with pytest.raises(InputError, match="workers"):
        get_executor(name)(workers)


def test_worker_count_above_the_cap_is_refused():
    with pytest.raises(InputError, match="more than foldrace allows"):
        get_executor("map")(max_workers() + 1)


def test_serial_refuses_more_than_one_worker():
    with pytest.raises(InputError, match="serial' runs on one worker"):
        get_executor("serial")(2)


def test_more_workers_than_cpus_is_allowed(small_workload):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = _run("starmap", usable_cpus() + 1, small_workload)
    assert [r.fold for r in results] == [0, 1, 2]


@pytest.mark.parametrize("name", PARALLEL)
def test_running_outside_the_context_is_an_error(small_workload, name):
    with pytest.raises(RuntimeError, match="not started"):
        get_executor(name)(1).run(benchmark_fold, small_workload.common_args, [])


PROCESS_EXECUTORS = [name for name, cls in EXECUTORS.items() if cls.uses_processes]


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
@pytest.mark.parametrize("name", PROCESS_EXECUTORS)
def test_scores_are_identical_under_every_start_method(small_workload, name, method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} does not exist on this platform")
    with get_executor(name)(2, start_method=method) as executor:
        assert executor.start_method == method
        results = executor.run(benchmark_fold, small_workload.common_args, small_workload.tasks())
    assert [r.fold for r in results] == [0, 1, 2]
    assert mean_scores(results) == mean_scores(_run("serial", 1, small_workload))
    assert {r.pid for r in results}.isdisjoint({os.getpid()})


def test_the_start_method_is_explicit_by_default():
    executor = get_executor("map")(1)
    assert executor.start_method == DEFAULT_START_METHOD
    assert executor.context.get_start_method() == DEFAULT_START_METHOD


def test_an_unknown_start_method_is_refused():
    with pytest.raises(InputError, match="unknown start method 'fork-bomb'; this platform has"):
        get_executor("map")(1, start_method="fork-bomb")


@pytest.mark.parametrize("name", executor_names())
def test_inner_threads_are_limited_to_one_by_default(name):
    from foldrace.testing import inner_threads

    workers = 1 if name == "serial" else 2
    with get_executor(name)(workers) as executor:
        assert executor.run(inner_threads, (), range(4)) == [1, 1, 1, 1]
    own = inner_threads()
    with get_executor(name)(workers, blas_threads=None) as executor:
        assert executor.run(inner_threads, (), range(4)) == [own] * 4


def test_bad_blas_threads_are_refused():
    with pytest.raises(InputError, match="blas_threads must be a positive integer or None"):
        get_executor("map")(1, blas_threads=0)

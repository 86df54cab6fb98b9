"""scikit-learn's own n_jobs as race entrants: GridSearchCV and cross_validate.

The registry-wide suites (identical scores, faults, timeouts, inner threads, the user's
reusable workers) cover them with every other strategy; these tests check what is theirs:
each task's record comes from the worker that ran it, the order scikit-learn imposes, and
the schedule rules that predict them.
"""

from __future__ import annotations

import os

import pytest

from foldrace import InputError, benchmark_fold, race
from foldrace.executors import parse_spec
from foldrace.harness import plan
from foldrace.schedule import predicted_makespan, predicted_speedup


@pytest.fixture(scope="module")
def serial_results(small_workload):
    tasks = small_workload.tasks("fold-model")
    return tasks, [benchmark_fold(*small_workload.common_args, task) for task in tasks]


@pytest.mark.parametrize("label", ["gridsearch", "cross_validate"])
def test_every_task_record_comes_from_a_worker_with_the_serial_score(
    small_workload, serial_results, label
):
    tasks, serial = serial_results
    with parse_spec(label).build(2).bind(small_workload.common_args) as executor:
        results = executor.run(benchmark_fold, tasks)
    assert [(r.fold, tuple(r.scores)) for r in results] == [(t.fold, t.models) for t in tasks]
    for ours, theirs in zip(results, serial, strict=True):
        assert {m: s.hex() for m, s in ours.scores.items()} == {
            m: s.hex() for m, s in theirs.scores.items()
        }
        assert ours.pid != os.getpid()
        assert ours.start < ours.end
    assert len({r.pid for r in results}) <= 2


def test_cross_validate_starts_a_candidate_only_after_the_last_fold_of_the_one_before(
    small_workload,
):
    tasks = small_workload.tasks("fold-model")
    with parse_spec("cross_validate").build(2).bind(small_workload.common_args) as executor:
        results = executor.run(benchmark_fold, tasks)
    by_model = {}
    for result in results:
        by_model.setdefault(next(iter(result.scores)), []).append(result)
    first, second = (by_model[name] for name in small_workload.model_names)
    assert max(r.end for r in first) < min(r.start for r in second)


def test_they_keep_scikit_learns_task_order_and_say_so():
    with pytest.raises(InputError, match="'gridsearch' on process workers has no task order"):
        parse_spec("gridsearch/order=longest-first")
    cells = plan(["gridsearch", "map"], [2], order="longest-first")  # where the axis exists
    assert [spec.label for spec, _ in cells] == ["serial", "gridsearch", "map/order=longest-first"]


def test_a_race_of_both_at_fold_granularity_fits_every_model_in_one_task(small_workload):
    result = race(small_workload, ["gridsearch", "cross_validate"], [2], repeats=1, warmup=0)
    assert result.check().identical
    tasks = result.tasks[result.tasks["executor"] == "gridsearch"]
    assert len(tasks) == len(small_workload.folds) * 1  # one task per fold, both models


def test_the_candidate_rules_predict_a_barrier_and_scikit_learns_order():
    # two candidates of three folds: a slow one (3 s a fold) and a quick one (1 s a fold)
    durations = [3.0, 1.0] * 3  # fold by fold, the candidates in order within each fold
    # GridSearchCV queues 3, 3, 3, 1, 1, 1: the workers end at 3+3 and 3+1+1+1
    assert predicted_makespan("by-candidate", durations, 2, None, 2) == 6.0
    # fold by fold instead, 3, 1, 3, 1, 3, 1: the last 3 s task starts at 4
    assert predicted_makespan("list", durations, 2) == 7.0
    # a loop of cross_validate: (3, 3 | 3) then (1, 1 | 1): 6 + 2
    assert predicted_makespan("candidate-by-candidate", durations, 2, None, 2) == 8.0
    assert predicted_speedup("candidate-by-candidate", durations, 2, None, "given", 2) == 1.5
    # one candidate (a task per fold fitting every model): a plain list schedule
    assert predicted_makespan("by-candidate", [2.0, 2.0, 2.0], 2) == 4.0
    with pytest.raises(ValueError, match="do not split into 4 candidates"):
        predicted_makespan("by-candidate", durations, 2, None, 4)

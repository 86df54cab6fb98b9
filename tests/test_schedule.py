"""Each strategy's schedule rule, on hand-computed cases."""

from __future__ import annotations

import random

import pytest

from foldrace import EXECUTORS
from foldrace.schedule import (
    ORDER_SEED,
    SCHEDULES,
    pool_chunksize,
    predicted_makespan,
    predicted_speedup,
    task_order,
)


@pytest.mark.parametrize(
    ("n_tasks", "workers", "chunksize"),
    [(3, 2, 1), (8, 2, 1), (9, 2, 2), (100, 4, 7), (1000, 16, 16), (0, 2, 0)],
)
def test_pool_chunksize_follows_multiprocessing(n_tasks, workers, chunksize):
    assert pool_chunksize(n_tasks, workers) == chunksize


@pytest.mark.parametrize(
    ("schedule", "durations", "workers", "chunksize", "makespan"),
    [
        ("sequential", [1.0, 2.0, 3.0], 4, None, 6.0),  # apply: one at a time
        ("list", [1.0, 1.0, 1.0], 2, None, 2.0),
        ("list", [3.0, 1.0, 1.0, 1.0], 2, None, 3.0),  # 3 | 1+1+1
        ("list", [1.0, 1.0, 1.0, 3.0], 2, None, 4.0),  # submission order matters: 1+1 | 1+3
        ("list", [5.0], 8, None, 5.0),
        ("chunked", [1.0] * 10, 2, None, 6.0),  # chunks of 2: five chunks on two workers
        ("chunked", [1.0] * 10, 2, 5, 5.0),  # two chunks of 5
        ("chunked", [4.0, 1.0, 1.0, 1.0], 2, 2, 5.0),  # chunks 5 | 2
        ("chunked", [2.0, 2.0, 2.0], 1, None, 6.0),
    ],
)
def test_hand_computed_makespans(schedule, durations, workers, chunksize, makespan):
    assert predicted_makespan(schedule, durations, workers, chunksize) == pytest.approx(makespan)


def test_speedup_is_total_over_makespan():
    assert predicted_speedup("list", [1.0, 1.0, 1.0], 2) == pytest.approx(1.5)
    assert predicted_speedup("sequential", [1.0, 1.0, 1.0], 3) == pytest.approx(1.0)


def test_every_executor_declares_a_known_schedule():
    assert {cls.schedule for cls in EXECUTORS.values()} <= set(SCHEDULES)
    assert EXECUTORS["apply"].schedule == "sequential"
    assert EXECUTORS["apply_async"].schedule == "list"
    assert EXECUTORS["starmap"].schedule == "chunked"


@pytest.mark.parametrize(("schedule", "workers"), [("greedy", 2), ("list", 0)])
def test_bad_arguments_raise(schedule, workers):
    with pytest.raises(ValueError, match=r"schedule|workers"):
        predicted_makespan(schedule, [1.0], workers)


def test_task_orders_given_longest_first_and_a_fixed_shuffle():
    durations = [1.0, 3.0, 2.0, 3.0]
    assert task_order(durations, "given") == [0, 1, 2, 3]
    assert task_order(durations, "longest-first") == [1, 3, 2, 0]  # ties keep their order
    shuffled = task_order(durations, "shuffled")
    assert sorted(shuffled) == [0, 1, 2, 3]
    assert shuffled == task_order(durations, "shuffled")  # the same every time
    with pytest.raises(ValueError, match="unknown order 'random'"):
        task_order(durations, "random")


def test_longest_first_removes_the_long_last_task():
    durations = [1.0, 1.0, 1.0, 1.0, 4.0]  # given: the long task starts last
    assert predicted_makespan("list", durations, 2) == 6.0
    assert predicted_speedup("list", durations, 2) == pytest.approx(8 / 6)
    assert predicted_speedup("list", durations, 2, order="longest-first") == pytest.approx(2.0)


def test_an_explicit_chunk_size_makes_a_list_rule_chunked():
    durations = [1.0] * 6
    assert predicted_speedup("list", durations, 2) == pytest.approx(2.0)
    assert predicted_speedup("list", durations, 2, chunksize=4) == pytest.approx(6 / 4)
    assert predicted_speedup("chunked", durations, 2, chunksize=4) == pytest.approx(6 / 4)


def test_the_shuffled_order_is_random_s_shuffle_with_the_fixed_seed():
    indices = list(range(10))
    random.Random(ORDER_SEED).shuffle(indices)
    assert task_order([1.0] * 10, "shuffled") == indices
    assert indices != sorted(indices)


def test_the_candidate_rules_group_the_tasks_by_candidate():
    durations = [3.0, 1.0, 3.0, 1.0, 3.0, 1.0]  # three folds of two candidates: 3 s and 1 s
    # by candidate: 3, 3, 3, 1, 1, 1 queued at once
    assert predicted_makespan("by-candidate", durations, 2, None, 2) == 6.0
    # candidate by candidate: 3 + 3 | 3, then 1 + 1 | 1
    assert predicted_makespan("candidate-by-candidate", durations, 2, None, 2) == 8.0
    assert predicted_makespan("by-candidate", durations, 2) == 7.0  # one candidate: a list
    assert predicted_speedup("candidate-by-candidate", durations, 2, candidates=2) == 1.5


@pytest.mark.parametrize("schedule", ["by-candidate", "candidate-by-candidate"])
@pytest.mark.parametrize("candidates", [0, 2])
def test_tasks_that_do_not_split_into_the_candidates_are_refused(schedule, candidates):
    message = f"3 tasks do not split into {candidates} candidates"
    with pytest.raises(ValueError, match=f"^{message}$"):
        predicted_makespan(schedule, [1.0, 1.0, 1.0], 2, None, candidates)


def test_a_list_rule_without_a_chunk_size_sends_no_chunks():
    durations = [1.0] * 20  # multiprocessing's own chunks would be of 3 tasks
    assert predicted_makespan("list", durations, 2) == 10.0
    assert predicted_makespan("chunked", durations, 2) == 11.0  # 3+3+3+2 | 3+3+3
    assert predicted_speedup("list", durations, 2) == 2.0


def test_no_tasks_or_no_time_is_linear():
    assert predicted_makespan("list", [], 2) == 0.0
    assert predicted_speedup("list", [], 2) == 2.0
    assert predicted_speedup("list", [0.0, 0.0], 2) == 2.0


def test_unknown_names_list_the_known_ones():
    known = "sequential, list, chunked, by-candidate, candidate-by-candidate"
    with pytest.raises(ValueError, match=f"^unknown schedule 'greedy'; known: {known}$"):
        predicted_makespan("greedy", [1.0], 2)
    with pytest.raises(ValueError, match=r"^unknown order 'random'; known: given, longest-first, "):
        task_order([1.0], "random")


def test_predicted_speedup_of_tasks_shorter_than_a_second():
    # the makespan (0.3 s) is below 1: the speedup is still the work over it, not the count
    assert predicted_speedup("list", [0.3, 0.1], 2) == pytest.approx(0.4 / 0.3)

"""Ideal speedup and the granularity bound, on hand-computed cases."""

from __future__ import annotations

import itertools
import random

import pytest

from foldrace.bounds import (
    EXACT_TASK_LIMIT,
    best_makespan,
    equal_task_bound,
    granularity_bound,
    ideal_speedup,
)


@pytest.mark.parametrize(
    ("durations", "workers", "makespan", "bound"),
    [
        ([1.0, 1.0, 1.0], 1, 3.0, 1.0),
        ([1.0, 1.0, 1.0], 2, 2.0, 1.5),  # three equal folds on two workers
        ([1.0, 1.0, 1.0], 3, 1.0, 3.0),
        ([1.0, 1.0, 1.0], 8, 1.0, 3.0),  # more workers than tasks: the longest task
        ([5.0, 1.0, 1.0], 2, 5.0, 1.4),
        ([3.0, 3.0, 2.0, 2.0, 2.0], 2, 6.0, 2.0),  # greedy LPT gives 7; the best is 6
        ([4.0, 4.0, 4.0, 4.0], 2, 8.0, 2.0),
        ([2.0, 1.0, 1.0, 1.0, 1.0], 3, 2.0, 3.0),
    ],
)
def test_hand_computed_cases(durations, workers, makespan, bound):
    assert best_makespan(durations, workers) == pytest.approx(makespan)
    assert granularity_bound(durations, workers) == pytest.approx(bound)


def test_ideal_is_linear():
    assert [ideal_speedup(w) for w in (1, 2, 16)] == [1.0, 2.0, 16.0]


def _brute_force(durations, workers):
    best = float("inf")
    for assignment in itertools.product(range(workers), repeat=len(durations)):
        loads = [0.0] * workers
        for task, worker in zip(durations, assignment, strict=True):
            loads[worker] += task
        best = min(best, max(loads))
    return best


@pytest.mark.parametrize("seed", range(20))
def test_exact_search_agrees_with_brute_force(seed):
    rng = random.Random(seed)
    durations = [rng.uniform(0.1, 2.0) for _ in range(rng.randint(1, 7))]
    workers = rng.randint(1, 4)
    assert best_makespan(durations, workers) == pytest.approx(_brute_force(durations, workers))


def test_many_tasks_fall_back_to_a_true_lower_bound():
    durations = [1.0] * (EXACT_TASK_LIMIT + 5)
    assert best_makespan(durations, 4) == pytest.approx(len(durations) / 4)
    assert granularity_bound(durations, 4) <= 4


@pytest.mark.parametrize(("durations", "workers"), [([], 2), ([1.0], 0), ([-1.0], 2)])
def test_bad_arguments_raise(durations, workers):
    with pytest.raises(ValueError, match=r"durations|workers"):
        best_makespan(durations, workers)


@pytest.mark.parametrize(
    ("n_tasks", "workers", "bound"),
    [(3, 1, 1.0), (3, 2, 1.5), (3, 3, 3.0), (3, 16, 3.0), (10, 4, 10 / 3)],
)
def test_equal_task_bound(n_tasks, workers, bound):
    assert equal_task_bound(n_tasks, workers) == pytest.approx(bound)
    assert equal_task_bound(n_tasks, workers) == pytest.approx(
        granularity_bound([1.0] * n_tasks, workers)
    )

"""Ideal speedup and the granularity bound, on hand-computed cases."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from foldrace import bounds
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


def test_zero_durations_are_tasks_too():
    assert best_makespan([0.0, 1.0], 2) == 1.0
    assert granularity_bound([0.0, 0.0], 2) == 2.0  # nothing to wait for: linear


@pytest.mark.parametrize(
    ("durations", "workers", "message"),
    [
        ([], 2, "durations is empty: no tasks to schedule"),
        ([1.0], 0, "workers must be at least 1, got 0"),
        ([1.0, -1.0], 2, "durations must be non-negative numbers"),
        ([1.0, float("nan")], 2, "durations must be non-negative numbers"),
    ],
)
def test_bad_arguments_say_what_is_wrong(durations, workers, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        best_makespan(durations, workers)


def test_the_exact_search_stops_at_the_task_limit():
    # Equal tasks that do not divide evenly: the best makespan is above the lower bound.
    exact = [1.0] * EXACT_TASK_LIMIT
    assert best_makespan(exact, 3) == 6.0  # 16 tasks on 3 workers: 6 + 5 + 5
    beyond = [1.0] * (EXACT_TASK_LIMIT + 1)
    assert best_makespan(beyond, 2) == 8.5  # the lower bound, though the best is 9


def test_the_search_settles_for_the_lower_bound_once_its_budget_is_spent(monkeypatch):
    # Five equal tasks on two workers: the lower bound 2.5 cannot be reached, the best is
    # 3. Pruning equal loads and loads that cannot improve proves it in eight steps.
    monkeypatch.setattr(bounds, "SEARCH_BUDGET", 8)
    assert best_makespan([1.0] * 5, 2) == 3.0
    monkeypatch.setattr(bounds, "SEARCH_BUDGET", 7)
    assert best_makespan([1.0] * 5, 2) == 2.5
    monkeypatch.setattr(bounds, "SEARCH_BUDGET", 22)  # seven tasks on three workers
    assert best_makespan([1.0] * 7, 3) == 3.0
    monkeypatch.setattr(bounds, "SEARCH_BUDGET", 21)
    assert best_makespan([1.0] * 7, 3) == pytest.approx(7 / 3)


def test_equal_task_bound_edges():
    assert equal_task_bound(1, 4) == 1.0
    for n_tasks, workers in [(0, 2), (2, 0)]:
        message = f"n_tasks and workers must be at least 1, got {n_tasks}, {workers}"
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            equal_task_bound(n_tasks, workers)

"""Each strategy's schedule rule, on hand-computed cases."""

from __future__ import annotations

import pytest

from foldrace import EXECUTORS
from foldrace.schedule import SCHEDULES, pool_chunksize, predicted_makespan, predicted_speedup


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

"""Properties of the pure core, checked on inputs Hypothesis generates (and shrinks).

The examples elsewhere show the rules on chosen cases; these say what must hold for every
case: the granularity bound, the schedule rules, score averaging and the results file.
"""

from __future__ import annotations

import functools
import heapq
import itertools
from multiprocessing.pool import Pool, ThreadPool

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foldrace import FoldResult, RaceResult, mean_scores
from foldrace.bounds import best_makespan, granularity_bound
from foldrace.schedule import (
    ORDERS,
    SCHEDULES,
    pool_chunksize,
    predicted_makespan,
    predicted_speedup,
)

DURATION = st.floats(min_value=0.001, max_value=100.0, allow_nan=False, allow_infinity=False)
"""A task duration in seconds."""

FEW = st.lists(DURATION, min_size=1, max_size=6)
"""Few enough tasks for every assignment to workers to be tried."""

MANY = st.lists(DURATION, min_size=1, max_size=40)

# No test may depend on how fast the machine is: Hypothesis's 200 ms deadline per example
# would fail a slow, busy machine, so there is none. A failure prints the blob that
# reproduces it (@reproduce_failure). Not derandomize: that also turns off Hypothesis's
# database, which replays each test's last failing example first.
settings.register_profile("foldrace", deadline=None, print_blob=True)
settings.load_profile("foldrace")


@given(FEW, st.integers(1, 3))
def test_the_bound_lies_between_1_and_the_workers_and_the_best_schedule_reaches_it(
    durations, workers
):
    bound = granularity_bound(durations, workers)
    assert 1.0 - 1e-9 <= bound <= workers + 1e-9
    assert bound <= len(durations) + 1e-9  # one task per worker at most at once
    best = min(
        max(
            sum(d for d, w in zip(durations, chosen, strict=True) if w == k) for k in range(workers)
        )
        for chosen in itertools.product(range(workers), repeat=len(durations))
    )  # every assignment of the tasks to the workers
    assert best_makespan(durations, workers) == pytest.approx(best, rel=1e-9)


@given(
    MANY,
    st.integers(1, 8),
    st.sampled_from(SCHEDULES),
    st.sampled_from(ORDERS),
    st.none() | st.integers(1, 6),
)
def test_no_schedule_rule_predicts_more_than_the_bound(
    durations, workers, schedule, order, chunksize
):
    predicted = predicted_speedup(schedule, durations, workers, chunksize, order)
    assert 1.0 - 1e-9 <= predicted <= granularity_bound(durations, workers) * (1 + 1e-9)


def _simulated_pool_map(durations: list[float], workers: int, chunksize: int) -> float:
    """When the last task ends when ``Pool.map`` runs ``durations``: CPython's own chunks
    (``Pool._get_tasks``), queued in order, each taken by the first free worker, its tasks
    run one after another, simulated event by event."""
    chunks = [chunk for _, chunk in Pool._get_tasks(None, durations, chunksize)]
    free_at = [(0.0, worker) for worker in range(workers)]  # (time free, worker)
    end = 0.0
    for chunk in chunks:
        now, worker = heapq.heappop(free_at)
        for duration in chunk:  # the worker runs the chunk's tasks in order
            now += duration
        end = max(end, now)
        heapq.heappush(free_at, (now, worker))
    return end


@functools.cache
def _cpython_chunksize(n_tasks: int, workers: int) -> int:
    """The chunk size CPython's ``Pool.map`` picks, seen by a spy on a real ``ThreadPool``."""
    seen: list[int] = []
    cut = Pool._get_tasks  # Pool._map_async calls it on the class, with the size it chose

    def spy(fn, items, size):
        seen.append(size)
        return cut(fn, items, size)

    Pool._get_tasks = staticmethod(spy)
    try:
        with ThreadPool(workers) as pool:
            pool.map(abs, range(n_tasks))
    finally:
        Pool._get_tasks = staticmethod(cut)
    return seen[0]


@given(MANY, st.integers(1, 8), st.none() | st.integers(1, 10))
def test_the_chunked_rule_is_cpythons_pool_map(durations, workers, chunksize):
    assert pool_chunksize(len(durations), workers) == _cpython_chunksize(len(durations), workers)
    size = chunksize or _cpython_chunksize(len(durations), workers)
    simulated = _simulated_pool_map(durations, workers, size)
    predicted = predicted_makespan("chunked", durations, workers, chunksize)
    assert predicted == pytest.approx(simulated, rel=1e-9)


SCORE = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@given(st.lists(st.tuples(SCORE, SCORE), min_size=1, max_size=10), st.randoms())
def test_averages_do_not_depend_on_the_order_results_arrive_in(scores, random):
    results = [
        FoldResult(fold, {"a": a, "b": b}, 1, 0.0, 1.0) for fold, (a, b) in enumerate(scores)
    ]
    arrived = results[:]
    random.shuffle(arrived)
    split = [FoldResult(r.fold, {m: s}, 1, 0.0, 1.0) for r in arrived for m, s in r.scores.items()]
    expected = {m: s.hex() for m, s in mean_scores(results).items()}
    assert {m: s.hex() for m, s in mean_scores(arrived).items()} == expected
    assert {m: s.hex() for m, s in mean_scores(split).items()} == expected  # fold-model


@pytest.fixture(scope="module")
def raced(small_workload) -> RaceResult:
    from foldrace import race

    return race(small_workload, ["map"], [1, 2], repeats=1, warmup=0)


@pytest.mark.processes
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(DURATION, min_size=4, max_size=4), st.lists(SCORE, min_size=1, max_size=1))
def test_a_written_results_file_reads_back_as_equal_tables(raced, tmp_path_factory, times, scores):
    timings = raced.timings.copy()
    timings["run_s"] = [times[i % len(times)] for i in range(len(timings))]
    table = raced.scores.copy()
    table["score"] = [scores[0] / (i + 1) for i in range(len(table))]
    result = RaceResult(timings, raced.tasks, table, raced.meta)
    folder = tmp_path_factory.mktemp("results")
    result.write(folder)
    again = RaceResult.read(folder / "results.json")
    for name in ("timings", "tasks", "scores"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(result, name))

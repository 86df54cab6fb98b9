"""What measured task durations allow: the ideal speedup and the granularity bound.

With ``n`` tasks of durations ``t`` on ``w`` workers, no schedule finishes before the
*best makespan*: the smallest, over all assignments of tasks to workers, of the busiest
worker's total. The granularity bound on speedup is ``sum(t) / best_makespan``. Three equal
folds on two workers give ``3 / 2 = 1.5``: one worker must run two folds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = [
    "EXACT_TASK_LIMIT",
    "best_makespan",
    "equal_task_bound",
    "granularity_bound",
    "ideal_speedup",
]

EXACT_TASK_LIMIT = 16
"""Up to this many tasks the best makespan is searched for exactly (branch and bound)."""

SEARCH_BUDGET = 200_000
"""Assignments the exact search may try before it settles for the lower bound."""


def ideal_speedup(workers: int) -> float:
    """Linear speedup: ``workers`` times faster."""
    return float(workers)


def _check(durations: Sequence[float], workers: int) -> list[float]:
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    times = [float(t) for t in durations]
    if not times:
        raise ValueError("durations is empty: no tasks to schedule")
    if any(t < 0 or math.isnan(t) for t in times):
        raise ValueError("durations must be non-negative numbers")
    return sorted(times, reverse=True)


def best_makespan(durations: Sequence[float], workers: int) -> float:
    """Shortest possible finishing time of ``durations`` on ``workers`` identical workers.

    Exact for up to :data:`EXACT_TASK_LIMIT` tasks (depth-first branch and bound over
    assignments, longest task first, within :data:`SEARCH_BUDGET` steps). Otherwise it
    returns the classic lower bound ``max(longest task, total / workers)``, so the speedup
    bound derived from it is still a true upper bound, only a looser one.

    Parameters
    ----------
    durations : sequence of float
        Task durations in seconds.
    workers : int
        Number of workers.
    """
    times = _check(durations, workers)
    lower = max(times[0], sum(times) / workers)
    if workers >= len(times) or len(times) > EXACT_TASK_LIMIT:
        return times[0] if workers >= len(times) else lower
    best = _greedy_makespan(times, workers)
    loads = [0.0] * workers
    steps = 0

    def place(index: int) -> None:
        nonlocal best, steps
        steps += 1
        if best <= lower or steps > SEARCH_BUDGET:
            return
        if index == len(times):
            best = min(best, max(loads))
            return
        seen: set[float] = set()
        for worker in range(workers):
            load = loads[worker]
            if load in seen or load + times[index] >= best:
                continue  # an equally loaded worker was tried, or this cannot improve
            seen.add(load)
            loads[worker] = load + times[index]
            place(index + 1)
            loads[worker] = load

    place(0)
    return best if steps <= SEARCH_BUDGET else lower


def _greedy_makespan(times: list[float], workers: int) -> float:
    """Longest-processing-time-first list schedule: a good first upper bound."""
    loads = [0.0] * workers
    for t in times:
        loads[loads.index(min(loads))] += t
    return max(loads)


def granularity_bound(durations: Sequence[float], workers: int) -> float:
    """Highest speedup any schedule of these tasks reaches on ``workers`` workers.

    ``sum(durations) / best_makespan(durations, workers)``; never above ``workers``.

    Examples
    --------
    >>> granularity_bound([1.0, 1.0, 1.0], 2)
    1.5
    >>> granularity_bound([1.0, 1.0, 1.0], 3)
    3.0
    """
    total = sum(float(t) for t in durations)
    makespan = best_makespan(durations, workers)
    return total / makespan if makespan > 0 else ideal_speedup(workers)


def equal_task_bound(n_tasks: int, workers: int) -> float:
    """The granularity bound if all ``n_tasks`` took equally long: ``n / ceil(n / workers)``.

    Examples
    --------
    >>> equal_task_bound(3, 2)
    1.5
    """
    if n_tasks < 1 or workers < 1:
        raise ValueError(f"n_tasks and workers must be at least 1, got {n_tasks}, {workers}")
    return n_tasks / math.ceil(n_tasks / workers)

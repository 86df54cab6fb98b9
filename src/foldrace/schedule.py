"""The schedule each dispatch strategy produces, predicted from measured task durations.

Each strategy has its own rule for handing tasks to workers, and so its own makespan (the
time until the last task ends) for the same tasks:

- ``sequential``: one task at a time, whatever the worker count (serial, a loop of
  ``Pool.apply``);
- ``list``: every task queued at once in submission order; each free worker takes the
  next one (``Pool.apply_async``, and any executor that submits task by task);
- ``chunked``: tasks cut into chunks of ``chunksize`` consecutive tasks, chunks queued in
  order, each free worker takes the next chunk (``Pool.map``, ``Pool.starmap``). Without
  an explicit chunk size, multiprocessing picks ``ceil(n / (4 * workers))``;
- ``by-candidate``: ``list``, with the tasks queued candidate by candidate, each
  candidate's folds in order (``GridSearchCV``'s order, whatever order it is given);
- ``candidate-by-candidate``: each candidate's folds as a ``list`` of their own, the next
  candidate only once the last fold of the one before has ended (a loop of
  ``cross_validate`` calls).

A *candidate* is one task's set of models: with one task per fold and model, every model
is one; with one task per fold, there is one candidate.

Predicted speedup is ``sum(durations) / makespan``; the gap to the measured speedup is the
dispatch overhead (pickling, queues, process wake-ups).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Sequence

__all__ = [
    "ORDERS",
    "ORDER_SEED",
    "SCHEDULES",
    "pool_chunksize",
    "predicted_makespan",
    "predicted_speedup",
    "task_order",
]

SCHEDULES = ("sequential", "list", "chunked", "by-candidate", "candidate-by-candidate")
"""The schedule rules an executor may declare."""

ORDERS = ("given", "longest-first", "shuffled")
"""Orders tasks can be submitted in: as the workload gives them (folds in order), the
longest first (by the reference run's task times), or shuffled (seed :data:`ORDER_SEED`)."""

ORDER_SEED = 0
"""Seed of the ``shuffled`` task order, so that every run submits the same order."""


def task_order(durations: Sequence[float], order: str) -> list[int]:
    """The task indices in the order ``order`` submits them.

    ``longest-first`` sorts by duration, longest first (ties keep the given order): the
    longest-processing-time rule, which keeps a long task from starting last.

    Examples
    --------
    >>> task_order([1.0, 3.0, 2.0], "longest-first")
    [1, 2, 0]
    """
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; known: {', '.join(ORDERS)}")
    indices = list(range(len(durations)))
    if order == "longest-first":
        indices.sort(key=lambda i: -durations[i])
    elif order == "shuffled":
        random.Random(ORDER_SEED).shuffle(indices)
    return indices


def pool_chunksize(n_tasks: int, workers: int) -> int:
    """The chunk size ``multiprocessing.Pool.map`` picks when none is given.

    ``divmod(n, 4 * workers)``, rounded up: CPython's ``Pool._map_async``.
    """
    if n_tasks == 0:
        return 0
    chunksize, extra = divmod(n_tasks, workers * 4)
    return chunksize + 1 if extra else chunksize


def _list_makespan(durations: Sequence[float], workers: int) -> float:
    """Greedy list scheduling in the given order: each job goes to the first free worker."""
    free_at = [0.0] * min(workers, len(durations))
    heapq.heapify(free_at)
    for duration in durations:
        heapq.heappush(free_at, heapq.heappop(free_at) + duration)
    return max(free_at, default=0.0)


def predicted_makespan(
    schedule: str,
    durations: Sequence[float],
    workers: int,
    chunksize: int | None = None,
    candidates: int = 1,
) -> float:
    """Makespan of ``durations`` on ``workers`` under a strategy's schedule rule.

    Parameters
    ----------
    schedule : {"sequential", "list", "chunked"}
        The strategy's rule (see the module docstring).
    durations : sequence of float
        Task durations in submission order.
    workers : int
        Number of workers.
    chunksize : int, optional
        For ``"chunked"``: tasks per chunk; multiprocessing's own choice if omitted.
    candidates : int
        For the two candidate rules: tasks per fold, one per candidate (``durations`` are
        fold by fold, the candidates in the same order within each fold).

    Examples
    --------
    >>> predicted_makespan("list", [1.0, 1.0, 1.0], 2)
    2.0
    >>> predicted_makespan("chunked", [1.0] * 10, 2)  # chunks of 2: 3 + 2 chunks
    6.0
    >>> predicted_makespan("candidate-by-candidate", [3.0, 1.0, 3.0, 1.0, 3.0, 1.0], 2, None, 2)
    8.0
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; known: {', '.join(SCHEDULES)}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    times = [float(d) for d in durations]
    if schedule == "sequential" or workers == 1:
        return sum(times)
    if schedule == "list":
        return _list_makespan(times, workers)
    if schedule in ("by-candidate", "candidate-by-candidate"):
        if candidates < 1 or len(times) % candidates:
            raise ValueError(f"{len(times)} tasks do not split into {candidates} candidates")
        groups = [times[c::candidates] for c in range(candidates)]
        if schedule == "by-candidate":
            return _list_makespan([t for group in groups for t in group], workers)
        return math.fsum(_list_makespan(group, workers) for group in groups)
    size = chunksize or pool_chunksize(len(times), workers)
    chunks = [sum(times[i : i + size]) for i in range(0, len(times), size)]
    return _list_makespan(chunks, workers)


def predicted_speedup(
    schedule: str,
    durations: Sequence[float],
    workers: int,
    chunksize: int | None = None,
    order: str = "given",
    candidates: int = 1,
) -> float:
    """``sum(durations) / predicted_makespan(...)``: the speedup the rule allows.

    ``durations`` are in the workload's order; ``order`` is the order they are submitted
    in (:func:`task_order`). An explicit ``chunksize`` makes a ``list`` rule chunked too
    (``imap_unordered``, ``Executor.map`` on processes send chunks of that size).
    ``candidates``: tasks per fold, for the candidate rules.
    """
    arranged = [durations[i] for i in task_order(durations, order)]
    rule = "chunked" if chunksize and schedule == "list" else schedule
    makespan = predicted_makespan(rule, arranged, workers, chunksize, candidates)
    return math.fsum(durations) / makespan if makespan > 0 else float(workers)

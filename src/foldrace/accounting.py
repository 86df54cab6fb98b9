"""Where the speedup went: each parallel run's ``workers x wall time``, accounted for.

A run on ``w`` workers that takes ``wall`` seconds (pool start-up + dispatch and compute +
shutdown, ``total_s``) has ``w x wall`` worker-seconds to spend. From the worker timelines
already recorded (each task's worker pid, start and end), they split into five parts:

``serial_s``
    time inside tasks at serial speed: for each task of the run, the serial reference's
    duration of the same task (median over the serial repeats, same granularity);
``contention_s``
    the extra the tasks took side by side: the run's own task durations minus
    ``serial_s`` (memory bandwidth, caches, shared cores); negative when they ran faster;
``pool_s``
    pool start-up and shutdown: ``w x (startup_s + shutdown_s)``;
``gaps_s``
    dispatch gaps: per worker, from dispatch start (``started``) to its first task, and
    between its consecutive tasks;
``idle_s``
    idle at the end (task granularity and the schedule): per worker, from its last task's
    end to the run's end (``started + run_s``). A worker that got no task is idle for the
    whole of ``run_s``, with no gap.

Workers are told apart by pid; tasks that ran at the same time in one process (a thread
pool) are packed into lanes (:func:`worker_lanes`). Task times come from ``time.time()`` in
the workers and ``started`` from ``time.time()`` in the parent, so clock granularity can
make a gap a few microseconds negative: such gaps count as 0, and ``unaccounted_s`` (the
``w x wall`` the five parts leave out) holds what that clamping moved, next to nothing.
The clocks must be one machine's: a remote cluster's skew ends up in the gaps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from foldrace.keys import REFERENCE, RUN_KEY

if TYPE_CHECKING:
    from foldrace.results import RaceResult

__all__ = [
    "ACCOUNT_COLUMNS",
    "PARTS",
    "account",
    "account_runs",
    "median_repeat",
    "worker_lanes",
]

PARTS = {
    "serial_s": "inside tasks, at serial speed",
    "contention_s": "contention: tasks slower side by side",
    "pool_s": "pool start-up and shutdown",
    "gaps_s": "dispatch gaps",
    "idle_s": "idle at the end (granularity, schedule)",
}
"""The parts of ``workers x wall time``, in the order they add up, with their labels."""

RUN_COLUMNS = (
    *RUN_KEY,
    "n_tasks",
    "lanes",
    "wall_s",
    "total_s",
    *PARTS,
    "unaccounted_s",
)
ACCOUNT_COLUMNS = (
    *RUN_COLUMNS,
    *(part.removesuffix("_s") + "_frac" for part in PARTS),
)
"""Columns of :func:`account`: one row per parallel cell, seconds, then fractions."""


def worker_lanes(tasks: pd.DataFrame, workers: int | None = None) -> pd.Series:
    """The worker lane of each task of one run, numbered from 0 in order of first start.

    Tasks of one pid that ran one after another share a lane (a worker process); tasks of
    one pid that overlap in time ran on threads and are packed greedily: in order of start,
    each task takes the free lane (its last task ended before this one started) whose last
    task ended latest, as the thread that has just finished would, or a new lane. With
    ``workers`` given and more lanes than that (a pool that replaced a worker process),
    lanes that never overlap are packed into worker slots the same way.

    Parameters
    ----------
    tasks : pandas.DataFrame
        One run's tasks, with columns pid, start and end.
    workers : int, optional
        The run's worker count.

    Returns
    -------
    pandas.Series of int
        The lane of each task, indexed like ``tasks``.
    """
    order = tasks.sort_values(["start", "end"], kind="stable")
    ends: list[float] = []
    owners: list[int] = []
    firsts: list[float] = []
    lane_of: dict[object, int] = {}
    for index, pid, start, end in zip(
        order.index, order["pid"], order["start"], order["end"], strict=True
    ):
        free = [i for i, e in enumerate(ends) if owners[i] == pid and e <= start]
        if free:
            lane = max(free, key=ends.__getitem__)
        else:
            lane = len(ends)
            ends.append(end)
            owners.append(pid)
            firsts.append(start)
        ends[lane] = end
        lane_of[index] = lane
    if workers is not None and len(ends) > workers:
        slots = _pack(list(zip(firsts, ends, strict=True)))
        lane_of = {index: slots[lane] for index, lane in lane_of.items()}
    return pd.Series(lane_of, dtype=int).reindex(tasks.index)


def _pack(spans: list[tuple[float, float]]) -> list[int]:
    """Slot of each (start, end) span, given in order of start: best-fit greedy packing."""
    ends: list[float] = []
    slots = []
    for start, end in spans:
        free = [i for i, e in enumerate(ends) if e <= start]
        if free:
            slot = max(free, key=ends.__getitem__)
            ends[slot] = end
        else:
            slot = len(ends)
            ends.append(end)
        slots.append(slot)
    return slots


def median_repeat(runs: pd.DataFrame) -> pd.Series:
    """The run of median dispatch + compute time (``run_s``) among one cell's repeats.

    The lower of the two middle ones for an even count, so it is always a real run.
    """
    ordered = runs.sort_values("run_s", kind="stable")
    return ordered.iloc[(len(ordered) - 1) // 2]


def _serial_times(result: RaceResult) -> dict[tuple[str, int, str], float]:
    """(granularity, fold, models) -> the reference's median task duration."""
    tasks = result.tasks
    serial = tasks[tasks["executor"] == REFERENCE]
    medians = serial.groupby(["granularity", "fold", "models"])["duration_s"].median()
    # A three-level index: its keys are (granularity, fold, models) tuples.
    items = cast(Iterator[tuple[tuple[Any, Any, Any], Any]], medians.items())
    return {(str(g), int(f), str(m)): float(d) for (g, f, m), d in items}


def _run_parts(
    run: pd.Series, tasks: pd.DataFrame, serial: dict[tuple[str, int, str], float]
) -> dict[str, float | int]:
    """The accounting of one run: see the module docstring."""
    workers = int(run["workers"])
    wall = float(run["startup_s"] + run["run_s"] + run["shutdown_s"])
    origin, finish = float(run["started"]), float(run["started"] + run["run_s"])
    lanes = worker_lanes(tasks, workers)
    gaps = idle = 0.0
    for _, lane in tasks.assign(lane=lanes).sort_values("start").groupby("lane"):
        starts, ends = lane["start"].to_numpy(float), lane["end"].to_numpy(float)
        waits = np.concatenate([[starts[0] - origin], starts[1:] - ends[:-1]])
        gaps += float(np.clip(waits, 0, None).sum())
        idle += max(finish - float(ends[-1]), 0.0)
    used = int(lanes.nunique())
    idle += max(workers - used, 0) * float(run["run_s"])
    granularity = str(run["granularity"])
    key = zip(tasks["fold"], tasks["models"], strict=True)
    serial_s = float(sum(serial.get((granularity, int(f), str(m)), np.nan) for f, m in key))
    tasks_s = float(tasks["duration_s"].sum())
    parts = {
        "serial_s": serial_s,
        "contention_s": tasks_s - serial_s,
        "pool_s": workers * float(run["startup_s"] + run["shutdown_s"]),
        "gaps_s": gaps,
        "idle_s": idle,
    }
    total = workers * wall
    return {
        "n_tasks": len(tasks),
        "lanes": used,
        "wall_s": wall,
        "total_s": total,
        **parts,
        "unaccounted_s": total - tasks_s - parts["pool_s"] - gaps - idle,
    }


def account_runs(result: RaceResult) -> pd.DataFrame:
    """Account for ``workers x wall time`` of every parallel run (executor not serial).

    Returns
    -------
    pandas.DataFrame
        One row per run: granularity, executor, workers, repeat, n_tasks, lanes (workers
        that ran a task), wall_s, total_s (``workers x wall_s``), the parts in seconds
        (:data:`PARTS`) and unaccounted_s. ``serial_s`` and ``contention_s`` are NaN where
        the race holds no serial run of a task (an interrupted race).
    """
    serial = _serial_times(result)
    timings = result.timings[result.timings["executor"] != REFERENCE]
    tasks = {key: group for key, group in result.tasks.groupby(list(RUN_KEY), sort=False)}
    empty = result.tasks.iloc[:0]
    rows = []
    for _, run in timings.iterrows():
        key = tuple(run[c] for c in RUN_KEY)
        parts = _run_parts(run, tasks.get(key, empty), serial)
        rows.append({**{c: run[c] for c in RUN_KEY}, **parts})
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


def account(result: RaceResult) -> pd.DataFrame:
    """Where each parallel cell's ``workers x wall time`` went, part by part.

    Each row is the cell's median repeat (:func:`median_repeat`, the repeat
    :func:`foldrace.plots.plot_timeline` draws), so that its parts are those of one real
    run and add up to its ``total_s``; medians of each part taken apart need not.

    Parameters
    ----------
    result : RaceResult
        A race, live or read back with :meth:`RaceResult.read`.

    Returns
    -------
    pandas.DataFrame
        One row per (granularity, executor, workers) with executor not serial, in the
        summary's order: the columns of :func:`account_runs` (``repeat`` is the one shown),
        then each part as a fraction of ``total_s`` (``serial_frac``, ``contention_frac``,
        ``pool_frac``, ``gaps_frac``, ``idle_frac``).
    """
    runs = account_runs(result)
    keys = ["granularity", "executor", "workers"]
    run_s = result.timings.set_index(list(RUN_KEY))["run_s"]
    runs = runs.assign(run_s=run_s.reindex(pd.MultiIndex.from_frame(runs[list(RUN_KEY)])).values)
    shown = [median_repeat(group).name for _, group in runs.groupby(keys, sort=False)]
    table = runs.loc[shown, list(RUN_COLUMNS)]
    order = {name: i for i, name in enumerate(result.executors)}
    rank = {g: i for i, g in enumerate(result.granularities)}
    table = table.sort_values(
        keys,
        key=lambda c: (
            c.map(rank) if c.name == "granularity" else c.map(order) if c.name == "executor" else c
        ),
        kind="stable",
    ).reset_index(drop=True)
    for part in PARTS:
        table[part.removesuffix("_s") + "_frac"] = table[part] / table["total_s"]
    return table[list(ACCOUNT_COLUMNS)]

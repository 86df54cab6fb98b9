"""What more CPUs would give: speedup curves predicted from one race's measurements.

A race on a 2-CPU machine measures two points of each curve. The schedule model
(:mod:`foldrace.schedule`) can draw the rest: fed with what the race measured, the
reference's task durations and each executor's own cost per task, it predicts the wall
time of every strategy at any worker count. Each executor's cost per task is its median
time at one worker over the reference's, spread over its tasks (pickling, queues, process
wake-ups; zero if it was not slower); every task is predicted to take its serial duration
plus that cost.

The model assumes a CPU per worker and nothing else shared: no memory bandwidth, caches or
GIL. With ``cpus`` given, workers beyond it share the CPUs: the makespan is at least the
total work over ``cpus``, which is how the predictor is checked against an oversubscribed
run on a small machine. Thread executors are left out (Python code holds the GIL, which
the model does not know), as are executors with no schedule rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from foldrace.bounds import granularity_bound
from foldrace.keys import REFERENCE
from foldrace.schedule import predicted_makespan, task_order

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from foldrace.results import RaceResult

__all__ = ["WHATIF_WORKERS", "cost_per_task", "plot_whatif", "predicted_curves"]

WHATIF_WORKERS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
"""Worker counts the what-if curves are predicted at by default."""

COLUMNS = (
    "granularity",
    "executor",
    "workers",
    "cost_per_task_s",
    "predicted_s",
    "predicted",
    "measured",
    "bound",
)


def cost_per_task(summary: pd.DataFrame, granularity: str, executor: str) -> float:
    """An executor's measured cost per task over the reference's: 0 if never slower.

    Its median time at one worker minus the reference's, over the number of tasks; NaN if
    it was not measured at one worker.
    """
    ones = summary[(summary["granularity"] == granularity) & (summary["workers"] == 1)]
    times = dict(zip(ones["executor"], ones["median_s"], strict=True))
    counts = dict(zip(ones["executor"], ones["n_tasks"], strict=True))
    if executor not in times or REFERENCE not in times:
        return float("nan")
    return max(0.0, float(times[executor]) - float(times[REFERENCE])) / float(counts[executor])


def predicted_curves(
    result: RaceResult, workers: Sequence[int] = WHATIF_WORKERS, cpus: int | None = None
) -> pd.DataFrame:
    """Predicted speedup of every executor at every worker count, beside what was measured.

    Parameters
    ----------
    result : RaceResult
        A race with the reference and each executor measured at one worker.
    workers : sequence of int
        Worker counts to predict at.
    cpus : int, optional
        CPUs the workers share; by default one per worker (the what-if).

    Returns
    -------
    pandas.DataFrame
        One row per granularity, executor and worker count: ``cost_per_task_s``,
        ``predicted_s`` (wall time), ``predicted`` (speedup: the serial task times' sum
        over it), ``measured`` (the race's median speedup; NaN where not measured) and
        ``bound`` (the granularity bound of the serial task times).
    """
    counts = sorted({int(w) for w in workers})
    if not counts or counts[0] < 1:
        raise ValueError(f"worker counts must be at least 1, got {list(workers)}")
    if cpus is not None and cpus < 1:
        raise ValueError(f"cpus must be at least 1, got {cpus}")
    summary = result.summary()
    measured = summary.set_index(["granularity", "executor", "workers"])["speedup"]
    schedules: dict[str, str] = result.meta.get("schedules", {})
    configs: dict[str, dict[str, Any]] = result.meta.get("configs", {})
    models = len(result.meta.get("workload", {}).get("models", [])) or 1
    rows = []
    for granularity in result.granularities:
        durations = result.task_durations(granularity)
        if not durations:
            continue
        total = math.fsum(durations)
        for executor in result.executors:
            config = configs.get(executor, {})
            if executor == REFERENCE or executor not in schedules or config.get("pool") == "thread":
                continue
            cost = cost_per_task(summary, granularity, executor)
            if math.isnan(cost):
                continue
            chunksize = config.get("chunksize")
            schedule = (
                "chunked" if chunksize and schedules[executor] == "list" else schedules[executor]
            )
            order = task_order(durations, config.get("order") or "given")
            tasks = [durations[i] + cost for i in order]
            candidates = models if granularity == "fold-model" else 1
            for count in counts:
                makespan = predicted_makespan(schedule, tasks, count, chunksize, candidates)
                if cpus is not None and count > cpus:
                    makespan = max(makespan, math.fsum(tasks) / cpus)
                rows.append(
                    (
                        granularity,
                        executor,
                        count,
                        cost,
                        makespan,
                        total / makespan,
                        float(measured.get((granularity, executor, count), np.nan)),
                        granularity_bound(durations, count),
                    )
                )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def plot_whatif(
    result: RaceResult,
    workers: Sequence[int] = WHATIF_WORKERS,
    cpus: int | None = None,
    ax: Axes | None = None,
    *,
    curves: pd.DataFrame | None = None,
) -> Figure:
    """Predicted speedup curves (dashed) to many workers, the measured points on them.

    One panel per granularity (or only the first, drawn into ``ax``): each executor's
    prediction dashed in its colour, its measured speedups as filled markers, the
    granularity bound and the ideal. A vertical line marks the CPUs of the machine that
    measured the race. ``curves``, if given, are ``predicted_curves(result, workers,
    cpus)`` already computed.
    """
    import matplotlib.pyplot as plt

    from foldrace.plots import executor_colour

    if curves is None:
        curves = predicted_curves(result, workers, cpus)
    granularities = list(dict.fromkeys(curves["granularity"])) or ["fold"]
    if ax is None:
        fig, axes = plt.subplots(
            1, len(granularities), figsize=(max(8.0, 6.4 * len(granularities)), 5.0), squeeze=False
        )
        panels = list(axes[0])
    else:
        fig, panels, granularities = cast("Figure", ax.figure), [ax], granularities[:1]
    machine_cpus = result.meta.get("machine", {}).get("usable_cpus")
    for panel, granularity in zip(panels, granularities, strict=True):
        shown = curves[curves["granularity"] == granularity]
        counts = sorted(shown["workers"].unique()) or sorted(workers)
        panel.plot(counts, counts, ":", color="0.6", label="ideal")
        bound = shown.drop_duplicates("workers").sort_values("workers")
        panel.plot(bound["workers"], bound["bound"], "-.", color="black", label="granularity bound")
        same: dict[tuple[float, ...], list[str]] = {}  # executors whose curves coincide
        for executor, rows in shown.groupby("executor", sort=False):
            key = tuple(rows.sort_values("workers")["predicted"].round(9))
            same.setdefault(key, []).append(str(executor))
        for names in same.values():
            rows = shown[shown["executor"] == names[0]].sort_values("workers")
            panel.plot(rows["workers"], rows["predicted"], "--", color=executor_colour(names[0]),
                       label=f"{', '.join(names)} (predicted)")  # fmt: skip
        for executor, rows in shown.groupby("executor", sort=False):
            seen = rows.dropna(subset=["measured"])
            panel.plot(seen["workers"], seen["measured"], "o", color=executor_colour(str(executor)),
                       label=f"{executor} (measured)")  # fmt: skip
        if machine_cpus:
            panel.axvline(machine_cpus, color="0.8", linewidth=3, zorder=0,
                          label=f"CPUs of the measured machine ({machine_cpus})")  # fmt: skip
        panel.set_xscale("log", base=2)
        panel.set_yscale("log", base=2)
        panel.set_xticks(counts, [str(c) for c in counts])
        top = max(counts)
        ticks = [v for v in (1, 2, 4, 8, 16, 32, 64, 128, 256) if v <= top]
        panel.set_yticks(ticks, [str(v) for v in ticks])
        panel.minorticks_off()
        panel.set_xlabel("workers")
        panel.set_ylabel("speedup over serial")
        panel.set_title(f"one task per {granularity.replace('-', ' and ')}")
        panel.legend(fontsize="small", loc="upper left")
    where = f"{cpus} CPUs shared" if cpus else "a CPU per worker"
    fig.suptitle(
        f"What-if: speedup predicted from the measured task times and costs per task\n"
        f"(schedule model, {where}): dashed; measured: dots"
    )
    fig.tight_layout()
    return fig

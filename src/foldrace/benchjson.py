"""Read the JSON that ``pytest benchmarks --benchmark-json FILE`` writes, and plot it.

The suite in ``benchmarks/`` tags every benchmark's ``extra_info`` with a ``kind``
(``foldrace.race``, ``foldrace.dispatch`` or ``foldrace.startup``) and what it measured.
Race entries become the same speedup table as ``foldrace run`` (speedup against the serial
entry of the same workload and granularity, the schedule prediction and the granularity
bound from serial's task durations), computed from each benchmark's median, fastest and
slowest round. Benchmarks time whole calls, pool start-up included.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from foldrace.errors import InputError
from foldrace.files import read_json
from foldrace.keys import REFERENCE
from foldrace.machine import machine_caption
from foldrace.results import (
    _granularity,
    _integer,
    _record_problem,
    _schedule,
    _seconds,
    _text,
    speedup_table,
)

__all__ = ["BenchmarkRun", "benchmark_figure", "benchmark_summary", "read_benchmark_json"]

WORKLOAD_ORDER = ("seed", "large")


@dataclass(frozen=True)
class BenchmarkRun:
    """The foldrace entries of one pytest-benchmark JSON file.

    Attributes
    ----------
    label : str
        A name for the run (the file name unless given).
    machine : dict
        foldrace's machine description, where the suite recorded it.
    races, dispatch, startup, axes : pandas.DataFrame
        One row per benchmark of each kind (races, trivial-task dispatch, pool start-up,
        and races along the configuration axes: data passing, start method, BLAS threads),
        with its extra_info and timing statistics.
    """

    label: str
    machine: dict[str, Any]
    races: pd.DataFrame
    dispatch: pd.DataFrame
    startup: pd.DataFrame
    axes: pd.DataFrame


def read_benchmark_json(path: str | os.PathLike[str], label: str | None = None) -> BenchmarkRun:
    """Read a pytest-benchmark JSON file written by foldrace's benchmark suite.

    Raises
    ------
    InputError
        If the file is missing, is not JSON, is not pytest-benchmark output, or holds no
        foldrace benchmarks.
    """
    name = str(path)
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise InputError(f"{name!r} is not pytest-benchmark JSON (no 'benchmarks' list)")
    rows: dict[str, list[dict[str, Any]]] = {"races": [], "dispatch": [], "startup": [], "axes": []}
    kinds = {
        "foldrace.race": "races",
        "foldrace.dispatch": "dispatch",
        "foldrace.startup": "startup",
        "foldrace.axes": "axes",
    }
    for index, bench in enumerate(data["benchmarks"]):
        info = bench.get("extra_info") if isinstance(bench, dict) else None
        info = info or {}
        tag = info.get("kind") if isinstance(info, dict) else None
        kind = kinds.get(tag) if isinstance(tag, str) else None
        if kind is None:
            continue
        problem = _entry_problem(bench, kind)
        if problem:
            label = bench.get("name") or f"#{index}"
            raise InputError(f"{name!r} has a damaged benchmark entry {label}: {problem}")
        stats = bench["stats"]
        rows[kind].append(
            {
                **info,
                "median_s": float(stats["median"]),
                "low_s": float(stats["min"]),
                "high_s": float(stats["max"]),
                "rounds": int(stats["rounds"]),
            }
        )
    if not any(rows.values()):
        raise InputError(
            f"{name!r} holds no foldrace benchmarks; write it with "
            "'pytest benchmarks --benchmark-json FILE'"
        )
    machine = (data.get("machine_info") or {}).get("foldrace") or {}
    return BenchmarkRun(label or Path(path).name, machine, *(pd.DataFrame(rows[k]) for k in rows))


_INFO_FIELDS = {
    "races": {
        "executor": _text,
        "schedule": _schedule,
        "workers": _integer(1),
        "workload": _text,
        "n_samples": _integer(1),
        "granularity": _granularity,
    },
    "dispatch": {
        "executor": _text,
        "variant": _text,
        "workers": _integer(1),
        "n_tasks": _integer(1),
    },
    "startup": {"method": _text, "workers": _integer(1), "start_s": _seconds, "stop_s": _seconds},
    "axes": {"executor": _text, "workers": _integer(1)},
}
"""The extra_info fields read from each kind of benchmark, and their checks."""

_STATS_FIELDS = {"median": _seconds, "min": _seconds, "max": _seconds, "rounds": _integer(1)}


def _durations(value: Any) -> str | None:
    if isinstance(value, list) and value and not any(_seconds(v) for v in value):
        return None
    return "must be a non-empty list of finite numbers of seconds, at least 0"


def _entry_problem(bench: dict[str, Any], kind: str) -> str | None:
    """What is wrong with one foldrace benchmark entry's fields, or None."""
    info = bench["extra_info"]
    fields = dict(_INFO_FIELDS[kind])
    if kind == "races" and info.get("executor") == REFERENCE:
        fields["task_durations"] = _durations
    problem = _record_problem(info, fields)
    if problem:
        return "extra_info" + problem
    problem = _record_problem(bench.get("stats"), _STATS_FIELDS)
    return "stats" + problem if problem else None


def benchmark_summary(run: BenchmarkRun) -> pd.DataFrame:
    """Speedup table of a run's race benchmarks, one row per workload and cell.

    Columns: workload, n_samples, granularity, executor, workers, median_s, speedup,
    speedup_low, speedup_high, efficiency, predicted, bound, ideal, n_tasks.

    Raises
    ------
    InputError
        If the run has no race benchmarks, or a workload has no serial entry.
    """
    races = run.races
    if races.empty:
        raise InputError(f"{run.label!r} holds no race benchmarks to plot")
    tables = []
    for workload, rows in races.groupby("workload", sort=False):
        serial = rows[rows["executor"] == REFERENCE]
        if serial.empty:
            raise InputError(f"{run.label!r}: workload {workload!r} has no serial benchmark")
        durations = {
            g: list(d) for g, d in zip(serial["granularity"], serial["task_durations"], strict=True)
        }
        schedules = dict(zip(rows["executor"], rows["schedule"], strict=False))
        cells = rows[["granularity", "executor", "workers", "median_s", "low_s", "high_s"]]
        folds = len(durations.get("fold", [])) or None  # tasks per fold: the candidates
        candidates = {g: len(d) // folds for g, d in durations.items()} if folds else None
        table = speedup_table(cells.reset_index(drop=True), durations, schedules, None, candidates)
        tables.append(table.assign(workload=workload, n_samples=int(rows["n_samples"].iloc[0])))
    summary = pd.concat(tables, ignore_index=True)
    order = {w: i for i, w in enumerate(WORKLOAD_ORDER)}
    summary = summary.sort_values(
        ["workload", "granularity"],
        key=lambda c: c.map(order) if c.name == "workload" else c,
        kind="stable",
    )
    front = ["workload", "n_samples"]
    return summary[front + [c for c in summary.columns if c not in front]].reset_index(drop=True)


def benchmark_figure(runs: list[BenchmarkRun]) -> Figure:
    """Speedup curves from one or more benchmark runs, side by side.

    One column per run (two files: two machines, or before and after); one row per
    workload and task granularity, each panel's legend to its right.
    """
    from foldrace.plots import draw_speedup

    summaries = [benchmark_summary(run) for run in runs]
    panels = list(
        dict.fromkeys(
            (w, g) for s in summaries for w, g in zip(s["workload"], s["granularity"], strict=True)
        )
    )
    fig = Figure(figsize=(10.5 * len(runs), 4.6 * len(panels)), layout="constrained")
    axes = fig.subplots(len(panels), len(runs), squeeze=False, sharey="row")
    for col, (run, summary) in enumerate(zip(runs, summaries, strict=True)):
        for row, (workload, granularity) in enumerate(panels):
            ax = axes[row, col]
            cells = summary[
                (summary["workload"] == workload) & (summary["granularity"] == granularity)
            ]
            if cells.empty:
                ax.set_axis_off()
                continue
            draw_speedup(ax, cells, cpus=run.machine.get("usable_cpus"), legend="right")
            samples = int(cells["n_samples"].iloc[0])
            ax.set_title(
                f"{run.label}: {workload} ({samples} samples), one task per "
                f"{granularity.replace('-', ' and ')}",
                fontsize=10,
            )
    machines = [f"{run.label}: {machine_caption(run.machine)}" for run in runs if run.machine]
    caption = "Whole calls, pool start-up included; median, band from fastest to slowest round. "
    caption += " | ".join(machines)
    fig.suptitle("Speedup over serial, from pytest-benchmark")
    fig.supxlabel("\n".join(textwrap.wrap(caption, 150 * len(runs))), fontsize=8, color="0.3")
    return fig

"""Figures of a race: speedup curves against the ideal and the granularity bound, worker
timelines, where each run's worker-seconds went, and bar charts for the tutorials.

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot state, no
display needed) and saved as PNG and SVG, each file written atomically.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import os
import textwrap
from pathlib import Path
from typing import Any, cast

import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from foldrace.accounting import PARTS, account, median_repeat, worker_lanes
from foldrace.bounds import equal_task_bound
from foldrace.errors import InputError
from foldrace.executors import executor_names
from foldrace.files import AtomicFiles, atomic_files
from foldrace.keys import REFERENCE
from foldrace.machine import describe_machine, machine_caption
from foldrace.results import RaceResult

__all__ = [
    "accounting_figure",
    "bar_figure",
    "draw_speedup",
    "plot_accounting",
    "plot_speedup",
    "plot_timeline",
    "save_figure",
    "speedup_figure",
    "write_figure",
]

FORMATS = ("png", "svg")

TUTORIAL_OUT = "tutorial-output"
"""The folder the tutorials write their figures into when given none."""


STYLES = {"fold": ("-", "o"), "fold-model": ("--", "s")}
"""Line style and marker per task granularity."""

BASELINES = (
    "blog apply_async",
    "joblib",
    "cross_validate",
    "joblib (cold start)",
    "cross_validate (cold start)",
)
"""Non-registry names the benchmark suite measures, given fixed colours after the registry's."""


_PAIRS = [(colormaps["tab20"](2 * i), colormaps["tab20"](2 * i + 1)) for i in range(10)] + [
    (colormaps["tab20b"](i), colormaps["tab20b"](i + 2)) for i in (0, 16, 8, 12)
]
"""A dark and a light shade per strategy (processes, threads): tab20's ten pairs, then
tab20b's."""

_OPTION_COLOURS = [
    colormaps["tab20b"](i) for i in range(20) if i not in (0, 2, 8, 10, 12, 14, 16, 18)
] + [colormaps["tab20c"](i) for i in range(16)]
"""Colours for executors with other options (start method, data passing, a cluster)."""


def executor_colour(name: str) -> str:
    """The same colour for an executor in every panel and figure.

    Each strategy has its own hue (a dark shade on processes, a light one on threads);
    other options (start method, data passing, a cluster) take colours of their own, and
    baselines and unknown names the colours that follow.
    """
    strategy, *options = name.split("/")
    strategies = [n for n in executor_names() if n != REFERENCE]
    if strategy in strategies and options in ([], ["thread"]):
        dark, light = _PAIRS[strategies.index(strategy) % len(_PAIRS)]
        return to_hex(light if options else dark)
    if strategy in strategies:  # other options: a colour of their own, the same every time
        index = 7 * strategies.index(strategy) + sum(map(ord, "/".join(options)))
        return to_hex(_OPTION_COLOURS[index % len(_OPTION_COLOURS)])
    known = list(BASELINES)
    index = known.index(name) if name in known else len(known) + sum(map(ord, name))
    return to_hex(colormaps["Dark2"](index % 8))


def draw_speedup(
    ax: Axes,
    summary: pd.DataFrame,
    *,
    cpus: int | None = None,
    legend: str | None = "right",
) -> None:
    """Draw speedup curves, predictions, the ideal and the granularity bound onto ``ax``.

    Predictions (crosses) that coincide are spread sideways around their worker count, so
    each executor's colour shows. Thread pools get none: the schedule rule knows the tasks'
    serial times, not how long each holds the GIL, so it would predict them as processes.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    summary : pandas.DataFrame
        Columns granularity, executor, workers, n_tasks, speedup, speedup_low,
        speedup_high, predicted, bound (as :meth:`~foldrace.results.RaceResult.summary`
        makes them).
    cpus : int, optional
        Where to mark the machine's CPU count.
    legend : {"right", "below", "best"} or None
        Where the legend goes: outside the axes, to their right or below them, so it never
        covers a curve; ``"best"`` inside, where matplotlib finds it covers least (for
        axes in someone else's figure); None for no legend.
    """
    workers = sorted(summary["workers"].unique())
    top = max([*workers, cpus or 1])
    several = summary["granularity"].nunique() > 1
    ax.plot([1, top], [1, top], "--", color="0.55", lw=1.2, label="ideal (linear)", zorder=1)
    for granularity, rows in summary.groupby("granularity", sort=False):
        bound = rows.drop_duplicates("workers").sort_values("workers")
        bound = bound[bound["bound"].notna()]
        if bound.empty:
            continue
        n_tasks = int(bound["n_tasks"].iloc[0])
        style, _ = STYLES.get(str(granularity), ("-", "o"))
        ax.plot(
            bound["workers"],
            bound["bound"],
            color="black",
            lw=2,
            marker="_",
            ms=14,
            ls=":" if style == "-" else "-.",
            label=f"bound from serial task times ({n_tasks} tasks)",
            zorder=2,
        )
        last = bound.iloc[-1]
        widest = int(last["workers"])
        ax.annotate(
            f"≤ {last['bound']:.2f}× at {widest} workers\n"
            f"({n_tasks} equal tasks: ≤ {equal_task_bound(n_tasks, widest):.2f}×)",
            (last["workers"], last["bound"]),
            xytext=(-8, 8),
            textcoords="offset points",
            ha="right",
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
            zorder=5.5,  # over the ideal line, under the crosses
        )
    disturbed_shown = threads_skipped = False
    crosses: list[tuple[float, float, str]] = []
    for key, cell in summary[summary["executor"] != REFERENCE].groupby(
        ["granularity", "executor"], sort=False
    ):
        granularity, name = cast(tuple[str, str], key)
        cell = cell.sort_values("workers")
        style, marker = STYLES.get(granularity, ("-", "o"))
        label = f"{name}, per {granularity}" if several else name
        (line,) = ax.plot(
            cell["workers"],
            cell["speedup"],
            marker=marker,
            ls=style,
            lw=2,
            label=label,
            color=executor_colour(name),
            zorder=3,
        )
        ax.fill_between(
            cell["workers"],
            cell["speedup_low"],
            cell["speedup_high"],
            color=line.get_color(),
            alpha=0.15,
            lw=0,
        )
        disturbed = cell[cell["disturbed"]] if "disturbed" in cell else cell.iloc[:0]
        if not disturbed.empty:  # hollow: a number the machine's other work may have made
            ax.plot(
                disturbed["workers"],
                disturbed["speedup"],
                ls="none",
                marker=marker,
                ms=11,
                mew=2,
                mfc="white",
                mec=line.get_color(),
                zorder=5,
            )
            disturbed_shown = True
        predicted = cell[cell["predicted"].notna()]
        if on_threads(name):
            threads_skipped = threads_skipped or not predicted.empty
        else:
            colour = to_hex(line.get_color())
            crosses += [
                (float(w), float(p), colour)
                for w, p in zip(predicted["workers"], predicted["predicted"], strict=True)
            ]
    top_y = top * 1.08
    for x, y, colour in _spread(crosses, workers, top_y, xspan=top - 0.6):
        ax.plot([x], [y], ls="none", marker="x", ms=9, mew=2, color=colour, zorder=6)
    if crosses:
        note = "\n(none for threads: it cannot know the GIL)" if threads_skipped else ""
        ax.plot(
            [],
            [],
            ls="none",
            marker="x",
            ms=9,
            mew=2,
            color="0.3",
            label=f"predicted by each schedule rule{note}",
        )
    if disturbed_shown:
        ax.plot(
            [],
            [],
            ls="none",
            marker="o",
            ms=9,
            mew=2,
            mfc="white",
            mec="0.3",
            label="disturbed: other work on the machine (see the warning)",
        )
    if cpus:
        ax.axvline(cpus, color="black", lw=1.5, ls="-.", alpha=0.35, zorder=0)
        ax.annotate(
            f"{cpus} CPUs",
            (cpus, 0.02),
            xycoords=("data", "axes fraction"),
            xytext=(-4, 0),
            textcoords="offset points",
            ha="right",
            color="0.35",
            fontsize=9,
        )
    ax.set_xlim(0.8, top + 0.2)
    ax.set_ylim(0, top_y)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("workers")
    ax.set_ylabel("speedup over serial (×)")
    ax.grid(alpha=0.3)
    if legend == "right":
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, borderaxespad=0)
    elif legend == "below":
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=8, ncols=2)
    elif legend == "best":
        ax.legend(loc="best", fontsize=7)
    elif legend is not None:
        raise ValueError(f"legend must be 'right', 'below', 'best' or None, got {legend!r}")


def on_threads(name: str) -> bool:
    """Whether the executor labelled ``name`` runs its tasks on threads (``map/thread``)."""
    return "thread" in name.split("/")[1:]


CROSS_STEP = 0.035
"""Sideways step between coinciding predicted crosses, as a share of the x axis's span."""


def _spread(
    crosses: list[tuple[float, float, str]], workers: list[Any], height: float, xspan: float
) -> list[tuple[float, float, str]]:
    """Crosses at the same worker count and (nearly) the same value, spread sideways.

    Values within 1.5% of the y axis's ``height`` count as the same; a group of ``n`` is
    centred on its worker count, a step of :data:`CROSS_STEP` of ``xspan`` apart, narrower
    where it would reach halfway to the next worker count.
    """
    gap = min((b - a for a, b in itertools.pairwise(workers)), default=1.0)
    groups: list[list[tuple[float, float, str]]] = []
    for cross in sorted(crosses, key=lambda c: (c[0], c[1])):
        last = groups[-1][-1] if groups else None
        if last is not None and last[0] == cross[0] and cross[1] - last[1] <= 0.015 * height:
            groups[-1].append(cross)
        else:
            groups.append([cross])
    order = {cross: i for i, cross in enumerate(crosses)}
    spread = []
    for group in groups:
        group.sort(key=order.__getitem__)  # the legend's order, left to right
        step = min(CROSS_STEP * xspan, 0.9 * gap / len(group))
        middle = (len(group) - 1) / 2
        spread += [(x + (i - middle) * step, y, c) for i, (x, y, c) in enumerate(group)]
    return spread


def speedup_figure(summary: pd.DataFrame, *, caption: str, cpus: int | None = None) -> Figure:
    """Speedup curves with a caption: one panel per task granularity, one above the other.

    See :func:`draw_speedup` for what each panel shows; each panel's legend is to its right.
    """
    granularities = list(dict.fromkeys(summary["granularity"]))
    fig = Figure(figsize=(10.5, 0.9 + 4.5 * len(granularities)), layout="constrained")
    axes = fig.subplots(len(granularities), 1, sharex=True, sharey=True, squeeze=False)[:, 0]
    for ax, granularity in zip(axes, granularities, strict=True):
        rows = summary[summary["granularity"] == granularity]
        draw_speedup(ax, rows, cpus=cpus, legend="right")
        if len(granularities) > 1:
            n_tasks = int(rows["n_tasks"].iloc[0])
            ax.set_title(f"one task per {granularity.replace('-', ' and ')} ({n_tasks} tasks)")
        ax.label_outer()  # "workers" under the lowest panel only
    fig.suptitle("Speedup over serial: median, band from fastest to slowest repeat")
    fig.supxlabel("\n".join(textwrap.wrap(caption, 150)), fontsize=8, color="0.3")
    return fig


def _caption(result: RaceResult) -> str:
    workload = result.meta.get("workload", {})
    machine = result.meta.get("machine")
    text = f"Workload: {workload.get('description', 'unknown')}."
    if machine:
        text += f" Machine: {machine_caption(machine)}."
    workers = _workers_caption(result.meta)
    text += f" {result.meta.get('repeats', '?')} timed repeats, dispatch + compute time"
    text += f", {workers}." if workers else "."
    if not result.meta.get("complete", True):
        text += " INCOMPLETE: the race was cut short."
    return text


CLUSTERS = {"dask": "Dask", "ray": "Ray"}
"""Cluster kinds, as captions name them."""


def _workers_caption(meta: dict[str, Any]) -> str:
    """What the race's workers were: every start method, thread pools, each cluster.

    From each executor's configuration (``meta["configs"]``); results without one give
    the race's start method only.
    """
    configs = [c for c in (meta.get("configs") or {}).values() if c.get("pool")]
    if not configs:
        method = meta.get("start_method")
        return f"start method {method}" if method else ""
    methods = list(dict.fromkeys(c["start_method"] for c in configs if c.get("start_method")))
    parts = []
    if methods:
        parts.append(f"start method{'s' * (len(methods) > 1)} {_listed(methods)}")
    if any(c["pool"] == "thread" for c in configs):
        parts.append("thread pools")
    clusters = meta.get("clusters") or {}
    for kind in dict.fromkeys(c["pool"] for c in configs if c["pool"] in CLUSTERS):
        cluster = clusters.get(kind) or {}
        where = "a local " if cluster.get("embedded", True) else "a "
        parts.append(f"{where}{CLUSTERS[kind]} cluster")
    return "; ".join(parts)


def _listed(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def plot_speedup(
    result: RaceResult,
    path: str | os.PathLike[str] | None = None,
    *,
    ax: Axes | None = None,
    granularity: str | None = None,
) -> Figure:
    """Draw a race's speedup curves; also save them as PNG and SVG if ``path`` is given.

    Parameters
    ----------
    result : RaceResult
        A race, live or read back with :meth:`RaceResult.read`.
    path : path-like, optional
        File name without suffix (``out/speedup`` writes ``out/speedup.png`` and
        ``out/speedup.svg``).
    ax : matplotlib Axes, optional
        Draw into these axes (one granularity, no caption), as scikit-learn's displays
        do; a figure of its own, one panel per granularity, if omitted.
    granularity : str, optional
        With ``ax``: the granularity to draw; the first in the race if omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (``ax``'s, when given).
    """
    machine = result.meta.get("machine") or {}
    cpus = machine.get("usable_cpus")
    if ax is not None:
        chosen = granularity or result.granularities[0]
        summary = result.summary()
        rows = summary[summary["granularity"] == chosen]
        if rows.empty:
            raise InputError(f"these results hold no run per {chosen}")
        draw_speedup(ax, rows, cpus=cpus, legend="best")
        root = ax.get_figure(root=True)
        assert isinstance(root, Figure)
        fig = root
    else:
        fig = speedup_figure(result.summary(), caption=_caption(result), cpus=cpus)
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_timeline(
    result: RaceResult,
    path: str | os.PathLike[str] | None = None,
    *,
    workers: int | None = None,
    granularity: str | None = None,
    ax: Axes | None = None,
    executor: str | None = None,
) -> Figure:
    """Draw each executor's worker timeline: one row per worker, one bar per task.

    Shows the repeat with the median time of each executor at one worker count, so it is
    plain to see which strategies keep every worker busy (``apply`` never does). Rows are
    worker processes, or for a thread pool the lanes of :func:`foldrace.accounting.worker_lanes`.

    Parameters
    ----------
    result : RaceResult
        A race, live or read back with :meth:`RaceResult.read`.
    path : path-like, optional
        File name without suffix; writes ``.png`` and ``.svg`` when given.
    workers : int, optional
        The worker count to show; the largest in the race if omitted.
    granularity : str, optional
        The task granularity to show; the first in the race if omitted.
    ax : matplotlib Axes, optional
        Draw one executor's timeline into these axes, as scikit-learn's displays do; a
        figure of its own, one panel per executor, if omitted.
    executor : str, optional
        With ``ax``: the executor to draw; the first parallel one if omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (``ax``'s, when given).

    Raises
    ------
    InputError
        If the race has no run at that worker count, granularity or executor.
    """
    granularity = granularity or result.granularities[0]
    timings = result.timings[result.timings["granularity"] == granularity]
    parallel = timings[timings["executor"] != REFERENCE]
    if workers is None:
        workers = int(parallel["workers"].max()) if not parallel.empty else 1
    cells = timings[(timings["workers"] == workers) | (timings["executor"] == REFERENCE)]
    raced = sorted(set(parallel["workers"]))
    if cells.empty or granularity not in result.granularities or (raced and workers not in raced):
        shown = f" (raced: {', '.join(map(str, raced))})" if raced else ""
        raise InputError(
            f"these results hold no run at workers={workers}, per {granularity}{shown}"
        )
    ran = set(cells["executor"])
    executors = [name for name in result.executors if name in ran]
    models = result.models
    colours = {m: f"C{i % 10}" for i, m in enumerate(["+".join(models), *models])}
    span = float((cells["run_s"]).max()) or 1.0
    key = _timeline_key(models, granularity, colours)
    if ax is not None:
        chosen = executor or next((e for e in executors if e != REFERENCE), executors[0])
        if chosen not in ran:
            raise InputError(f"these results hold no run of {chosen!r} at workers={workers}")
        _draw_lanes(ax, result, cells[cells["executor"] == chosen], granularity, colours, span)
        ax.set_xlabel("seconds since dispatch began")
        if granularity == "fold-model":  # each model's colour, where it covers least
            ax.legend(handles=key[1], title="model", loc="best", fontsize=7, title_fontsize=7)
        figure = ax.get_figure(root=True)
        assert isinstance(figure, Figure)
        if path is not None:
            save_figure(figure, path)
        return figure
    title, handles = key
    rows = math.ceil(len(handles) / 2)
    height = 0.45 + 0.16 * rows  # the key's, below the timelines
    fig = Figure(figsize=(8, 1.0 + 1.25 * len(executors) + height), layout="constrained")
    heights = [1.25] * len(executors) + [height]
    grid = fig.subplots(len(heights), 1, squeeze=False, height_ratios=heights)[:, 0]
    axes = grid[: len(executors)]
    for ax in axes[1:]:
        ax.sharex(axes[0])
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    for ax, name in zip(axes, executors, strict=True):
        _draw_lanes(ax, result, cells[cells["executor"] == name], granularity, colours, span)
    per = granularity.replace("-", " and ")
    fig.suptitle(f"Worker timelines at {workers} workers, one task per {per}", fontsize=11)
    axes[-1].set_xlabel("seconds since dispatch began")
    grid[-1].axis("off")
    grid[-1].legend(
        handles=handles,
        loc="center",
        ncols=min(2, len(handles)),
        fontsize=7,
        frameon=False,
        title=title,
        title_fontsize=8,
    )
    fig.supxlabel("\n".join(textwrap.wrap(_caption(result), 115)), fontsize=8, color="0.3")
    if path is not None:
        save_figure(fig, path)
    return fig


def _timeline_key(
    models: list[str], granularity: str, colours: dict[str, str]
) -> tuple[str, list[Patch]]:
    """The timeline's key: what a bar and its number are, and each model's colour."""
    if granularity != "fold-model":
        every = "+".join(models)
        return (
            "each bar: one task, every model on one fold; its number: the fold",
            [Patch(color=colours[every], label=f"{every} (one task per fold)")],
        )
    named = models[:LEGEND_MODELS]
    more = f"; the first {len(named)} of {len(models)}, colours repeat" * (len(models) > len(named))
    return (
        "\n".join(
            textwrap.wrap(
                f"each bar: one task, one model on one fold; its number: the fold; colour: "
                f"the model{more}",
                100,
            )
        ),
        [Patch(color=colours[m], label=m) for m in named],
    )


def _draw_lanes(
    ax: Axes,
    result: RaceResult,
    cells: pd.DataFrame,
    granularity: str,
    colours: dict[str, str],
    span: float,
) -> None:
    """One executor's median run: a row per worker, a bar per task numbered by its fold.

    A bar gets its fold's number only where the number fits inside it, so that numbers
    of narrow neighbours never run together.
    """
    run = median_repeat(cells)
    name = run["executor"]
    tasks = result.tasks
    tasks = tasks[
        (tasks["granularity"] == granularity)
        & (tasks["executor"] == name)
        & (tasks["workers"] == run["workers"])
        & (tasks["repeat"] == run["repeat"])
    ]
    lanes = worker_lanes(tasks, int(run["workers"]))
    figure = ax.get_figure(root=True)
    inches = ax.get_position().width * (figure.get_figwidth() if figure is not None else 6.4)
    points_per_second = 72 * inches / (span * 1.05)  # matplotlib's 5% margins
    for task in tasks.itertuples():
        left = task.start - run["started"]
        row = lanes[task.Index]
        ax.barh(
            row, task.duration_s, left=left, height=0.7, color=colours[task.models],
            edgecolor="white",
        )  # fmt: skip
        label = str(task.fold)
        if task.duration_s * points_per_second >= LABEL_POINTS * (len(label) + 1):
            ax.text(
                left + task.duration_s / 2, row, label, ha="center", va="center",
                fontsize=7, color="white", clip_on=True,
            )  # fmt: skip
    rows = lanes.nunique()
    ax.set_yticks(range(rows), [f"w{i}" for i in range(rows)], fontsize=8)
    ax.set_ylim(-0.6, max(rows, int(run["workers"])) - 0.4)
    ax.invert_yaxis()
    count = int(run["workers"])
    used = f"{rows} of {count} worker{'s' * (count > 1)} used, "
    used += f"at most {_most_at_once(tasks)} busy at once"
    ax.set_title(f"{name}: {used}, {run['run_s']:.3f} s", fontsize=9, loc="left")
    ax.grid(axis="x", alpha=0.3)


LABEL_POINTS = 4.5
"""Width of one character of a bar's 7-point label, in points: a bar is numbered when it
is at least one character wider than its number."""

LEGEND_MODELS = 10
"""Models named in a per-fold-and-model timeline's colour legend, at most."""


def _most_at_once(tasks: pd.DataFrame) -> int:
    """Largest number of tasks running at the same moment."""
    events = sorted([(t, 1) for t in tasks["start"]] + [(t, -1) for t in tasks["end"]])
    running = most = 0
    for _, change in events:  # at equal times, ends (-1) sort before starts
        running += change
        most = max(most, running)
    return most


PART_COLOURS = {
    "serial_s": "#4c9a2a",
    "contention_s": "#d62728",
    "pool_s": "#7f7f7f",
    "gaps_s": "#ff9f1c",
    "idle_s": "#9ecae1",
}
"""One colour per part of the accounting (:data:`foldrace.accounting.PARTS`)."""


def accounting_figure(table: pd.DataFrame, *, caption: str) -> Figure:
    """Stacked bars of where each parallel cell's ``workers x wall time`` went.

    One horizontal bar per executor at each worker count (grouped by worker count), one
    panel per task granularity, one colour per part, in the order of
    :data:`foldrace.accounting.PARTS`; each bar ends at ``workers x wall``. Where the tasks
    ran faster than serially (negative contention, a serial reference slowed by other work,
    or warmer caches), the first part is the time they took, and a hatched outline runs on
    to where they would have ended at serial speed.

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`foldrace.accounting.account` makes it.
    caption : str
        What ran, on which machine.
    """
    granularities = list(dict.fromkeys(table["granularity"])) or [None]
    sizes = [max(len(table[table["granularity"] == g]), 1) for g in granularities]
    fig = Figure(figsize=(9, 1.9 + 0.34 * sum(sizes) + 0.5 * len(sizes)), layout="constrained")
    axes = fig.subplots(
        len(sizes), 1, sharex=True, squeeze=False, height_ratios=[n + 1 for n in sizes]
    )[:, 0]
    for ax, granularity in zip(axes, granularities, strict=True):
        rows = table[table["granularity"] == granularity].sort_values("workers", kind="stable")
        if rows.empty:
            ax.text(0.5, 0.5, "no parallel runs", ha="center", va="center", transform=ax.transAxes)
            ax.set_yticks([])
            continue
        labels = [
            f"{row.executor}, {row.workers} worker{'s' * (row.workers > 1)}"
            for row in rows.itertuples()
        ]
        y = list(range(len(rows)))
        ran = rows["total_s"] - rows[["pool_s", "gaps_s", "idle_s", "unaccounted_s"]].sum(axis=1)
        faster = rows["contention_s"].clip(upper=0.0).fillna(0.0)
        widths = {
            "serial_s": (rows["serial_s"] + faster).fillna(ran),  # tasks as they ran, if faster
            "contention_s": rows["contention_s"].clip(lower=0.0).fillna(0.0),
            **{part: rows[part] for part in ("pool_s", "gaps_s", "idle_s")},
        }
        left = pd.Series(0.0, index=rows.index)
        for part, width in widths.items():
            ax.barh(y, width, left=left, height=0.7, color=PART_COLOURS[part], edgecolor="white")
            left = left + width
        for i, saved, serial in zip(y, faster, rows["serial_s"], strict=True):
            if saved < 0:  # where the tasks would have ended at serial speed
                ax.add_patch(
                    Rectangle(
                        (serial + saved, i - 0.35),
                        -saved,
                        0.7,
                        facecolor="none",
                        edgecolor=PART_COLOURS["contention_s"],
                        hatch="////",
                        lw=0.8,
                        zorder=3,
                    )
                )
        ends = pd.concat([left, rows["serial_s"]], axis=1).max(axis=1)
        for i, end, row in zip(y, ends, rows.itertuples(), strict=True):
            ax.text(
                end,
                i,
                f"  {row.workers} × {row.wall_s:.3g} s",
                va="center",
                fontsize=8,
                color="0.25",
            )
        ax.set_yticks(y, labels, fontsize=8)
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
        if len(granularities) > 1:
            ax.set_ylabel(f"tasks per {granularity}", fontsize=9)
    right = float(table[["total_s", "serial_s"]].max().max()) if len(table) else 1.0
    axes[-1].set_xlim(0, right * 1.18 or 1.0)
    axes[-1].set_xlabel(
        "worker-seconds: workers × wall time (start-up + dispatch and compute + shutdown)"
    )
    handles = [Patch(facecolor=PART_COLOURS[part], label=label) for part, label in PARTS.items()]
    handles[1].set(hatch="////", edgecolor="white")
    axes[0].legend(
        handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.02), ncols=3, fontsize=8
    )
    fig.suptitle("Where the speedup went: each cell's worker-seconds, part by part", fontsize=11)
    fig.supxlabel(textwrap.fill(caption, 125), fontsize=8, color="0.3")
    return fig


def plot_accounting(result: RaceResult, path: str | os.PathLike[str] | None = None) -> Figure:
    """Draw where each parallel cell's worker-seconds went; save PNG and SVG if ``path``.

    See :func:`foldrace.accounting.account` for the parts and :func:`accounting_figure`
    for the drawing.
    """
    table = account(result)
    caption = (
        "Each bar: workers × wall time of the cell's median repeat, split from the worker "
        "timelines: its tasks at their serial durations, the extra they took side by side, "
        "pool start-up and shutdown on every worker, waits before and between a worker's "
        "tasks, and each worker's idle time after its last task. "
    )
    if (table["contention_s"] < 0).any():
        caption += (
            "A hatched outline: tasks that ran faster than in the serial run, up to where "
            "they would have ended at serial speed. "
        )
    caption += _caption(result)
    fig = accounting_figure(table, caption=caption)
    if path is not None:
        save_figure(fig, path)
    return fig


def bar_figure(
    table: pd.DataFrame,
    *,
    value: str,
    label: str,
    group: str | None = None,
    title: str,
    xlabel: str,
    caption: str | None = None,
    fmt: str = "{:.2f}",
    sharex: bool = True,
    colour_by: str | None = None,
) -> Figure:
    """Horizontal bars of ``table[value]`` per ``table[label]``, one panel per ``group``.

    For the tutorials' comparisons along one axis (backend, start method, data passing,
    BLAS threads): each bar is labelled with its value. The panels share the x axis, or
    with ``sharex=False`` each has its own, labelled, so that groups of very different
    sizes (a thousand samples and a million) both show. Each bar takes its executor's
    colour (:func:`executor_colour`) from ``table[colour_by]``, ``table[label]`` if not
    given. The caption, unless given, names this machine
    (:func:`foldrace.machine.machine_caption`).
    """
    if caption is None:
        caption = f"Machine: {machine_caption(describe_machine())}."
    groups: list[tuple[Any, pd.DataFrame]] = (
        [(None, table)] if group is None else list(table.groupby(group, sort=False))
    )
    fig = Figure(figsize=(8, 1.2 + 0.42 * len(table) + 0.5 * len(groups)), layout="constrained")
    heights = [len(rows) + 0.8 for _, rows in groups]
    axes = fig.subplots(len(groups), 1, sharex=sharex, squeeze=False, height_ratios=heights)[:, 0]
    for ax, (name, rows) in zip(axes, groups, strict=True):
        colours = [executor_colour(str(n)) for n in rows[colour_by or label]]
        bars = ax.barh(rows[label].astype(str), rows[value], color=colours)
        ax.bar_label(bars, labels=[fmt.format(v) for v in rows[value]], padding=3, fontsize=8)
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
        if name is not None:
            scale = "" if sharex else " (its own scale)"
            ax.set_title(f"{group}: {name}{scale}", fontsize=9, loc="left")
        if not sharex:
            right = float(rows[value].max()) if len(rows) else 1.0
            ax.set_xlim(0, right * 1.2 or 1.0)
    axes[-1].set_xlabel(xlabel)
    if sharex:
        right = float(table[value].max()) if len(table) else 1.0
        axes[-1].set_xlim(0, right * 1.2 or 1.0)
    fig.suptitle(title, fontsize=11)
    fig.supxlabel(textwrap.fill(caption, 120), fontsize=8, color="0.3")
    return fig


def save_figure(
    fig: Figure, path: str | os.PathLike[str], files: AtomicFiles | None = None
) -> list[Path]:
    """Save ``fig`` as ``path.png`` and ``path.svg``, as one set; return the paths.

    Both files replace earlier ones together or not at all; with ``files``, they join that
    set instead.

    Raises
    ------
    foldrace.files.WriteError
        If a file cannot be written; nothing is replaced.
    """
    written = []
    with contextlib.nullcontext(files) if files is not None else atomic_files() as group:
        for fmt in FORMATS:
            target = Path(f"{os.fspath(path)}.{fmt}")
            group.write(target, functools.partial(fig.savefig, format=fmt, dpi=150), "wb")
            written.append(target)
    return written


def write_figure(fig: Figure, out: str | os.PathLike[str], name: str) -> list[Path]:
    """Save ``fig`` as ``out/name.png`` and ``.svg``, making ``out``; say where it went.

    The tutorials' way to keep a figure: :func:`save_figure` into a folder that need not
    exist yet, then ``wrote out/name.png`` printed. Returns the paths written.

    Raises
    ------
    foldrace.files.WriteError
        If a file cannot be written; nothing is replaced.
    """
    Path(out).mkdir(parents=True, exist_ok=True)
    written = save_figure(fig, Path(out) / name)
    print(f"wrote {written[0]}")
    return written

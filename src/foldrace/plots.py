"""Speedup curves: measured speedup per executor against the ideal and the granularity bound.

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot state, no
display needed) and saved as PNG and SVG, each file written atomically.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from foldrace.files import atomic_write
from foldrace.limits import equal_task_bound
from foldrace.machine import machine_caption
from foldrace.results import REFERENCE, RaceResult

__all__ = ["plot_speedup", "save_figure", "speedup_figure"]

FORMATS = ("png", "svg")


def speedup_figure(
    summary: pd.DataFrame, *, caption: str, cpus: int | None = None, n_tasks: int | None = None
) -> Figure:
    """Draw speedup against workers from a summary table.

    Parameters
    ----------
    summary : pandas.DataFrame
        Columns executor, workers, speedup, speedup_low, speedup_high, bound (as made by
        :meth:`~foldrace.results.RaceResult.summary`).
    caption : str
        Text under the axes naming the workload and the machine.
    cpus : int, optional
        Where to mark the machine's CPU count.
    n_tasks : int, optional
        Number of tasks, named in the bound's label.
    """
    fig = Figure(figsize=(8, 5.4), layout="constrained")
    ax = fig.add_subplot()
    workers = sorted(summary["workers"].unique())
    top = max([*workers, cpus or 1])
    ax.plot([1, top], [1, top], "--", color="0.55", lw=1.2, label="ideal (linear)", zorder=1)
    bound = summary.drop_duplicates("workers").sort_values("workers")
    bound = bound[bound["bound"].notna()]
    if not bound.empty:
        label = "granularity bound" + (f" ({n_tasks} tasks)" if n_tasks else "")
        ax.plot(
            bound["workers"],
            bound["bound"],
            color="black",
            lw=2,
            marker="_",
            ms=14,
            ls=":",
            label=label,
            zorder=2,
        )
        last = bound.iloc[-1]
        widest = int(last["workers"])
        note = f"≤ {last['bound']:.2f}× at {widest} workers"
        if n_tasks:
            note += f"\n({n_tasks} equal tasks: ≤ {equal_task_bound(n_tasks, widest):.2f}×)"
        ax.annotate(
            note,
            (last["workers"], last["bound"]),
            xytext=(-8, 8),
            textcoords="offset points",
            ha="right",
            fontsize=9,
        )
    for name, cell in summary[summary["executor"] != REFERENCE].groupby("executor", sort=False):
        cell = cell.sort_values("workers")
        (line,) = ax.plot(cell["workers"], cell["speedup"], marker="o", lw=2, label=name, zorder=3)
        ax.fill_between(
            cell["workers"],
            cell["speedup_low"],
            cell["speedup_high"],
            color=line.get_color(),
            alpha=0.15,
            lw=0,
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
    ax.set_ylim(0, top * 1.08)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("workers")
    ax.set_ylabel("speedup over serial (×)")
    ax.set_title("Speedup over serial: median, band from fastest to slowest repeat")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    fig.get_layout_engine().set(h_pad=0.15)
    fig.supxlabel("\n".join(textwrap.wrap(caption, 115)), fontsize=8, color="0.3")
    return fig


def _caption(result: RaceResult) -> str:
    workload = result.meta.get("workload", {})
    machine = result.meta.get("machine")
    text = f"Workload: {workload.get('description', 'unknown')}."
    if machine:
        text += f" Machine: {machine_caption(machine)}."
    text += f" {result.meta.get('repeats', '?')} timed repeats per point, dispatch + compute time."
    if not result.meta.get("complete", True):
        text += " INCOMPLETE: the race was cut short."
    return text


def plot_speedup(result: RaceResult, path: str | os.PathLike[str] | None = None) -> Figure:
    """Draw a race's speedup curves; also save them as PNG and SVG if ``path`` is given.

    Parameters
    ----------
    result : RaceResult
        A race, live or read back with :meth:`RaceResult.read`.
    path : path-like, optional
        File name without suffix (``out/speedup`` writes ``out/speedup.png`` and
        ``out/speedup.svg``).
    """
    machine = result.meta.get("machine") or {}
    fig = speedup_figure(
        result.summary(),
        caption=_caption(result),
        cpus=machine.get("usable_cpus"),
        n_tasks=result.meta.get("workload", {}).get("n_tasks"),
    )
    if path is not None:
        save_figure(fig, path)
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> list[Path]:
    """Save ``fig`` as ``path.png`` and ``path.svg``, each atomically; return the paths."""
    written = []
    for fmt in FORMATS:
        target = Path(f"{os.fspath(path)}.{fmt}")
        atomic_write(target, lambda handle, f=fmt: fig.savefig(handle, format=f, dpi=150), "wb")
        written.append(target)
    return written

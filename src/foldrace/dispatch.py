"""What dispatch itself costs: microseconds per trivial task, and pool start-up per method.

With tasks that do nothing, all that is left is each strategy's overhead: pickling the
call, queue round trips, waking a worker, and for ``apply`` a full wait per task. Chunks
(``map``, ``starmap``) pay those costs once per chunk instead of once per task.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterable

import pandas as pd
from matplotlib.figure import Figure

from foldrace.executors import parse_spec, standard_specs
from foldrace.progress import tqdm

__all__ = ["dispatch_cost", "dispatch_figure", "noop", "startup_cost", "variants"]


def noop(item: object) -> object:
    """The trivial task: return the argument untouched."""
    return item


def variants(executors: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
    """(executor, variant, label to run): each executor once, chunked ones twice.

    ``executors`` are labels (every strategy on every local backend if omitted). The chunked
    strategies run with multiprocessing's default chunk size and with ``chunksize=1``,
    which sends every task on its own.
    """
    labels = [s.label for s in standard_specs()] if executors is None else list(executors)
    chosen: list[tuple[str, str, str]] = []
    for label in labels:
        spec = parse_spec(label)
        chosen.append((spec.label, "default", spec.label))
        if spec.executor_class.schedule == "chunked":
            chosen.append((spec.label, "chunksize=1", f"{spec.label}/chunksize=1"))
    return chosen


def dispatch_cost(
    executors: Iterable[str] | None = None,
    n_tasks: int = 2000,
    workers: int = 2,
    repeats: int = 5,
    progress: bool | None = False,
) -> pd.DataFrame:
    """Time ``n_tasks`` trivial tasks through each executor, pool start-up excluded.

    ``progress``: a progress bar on standard error (None: only where it is a terminal).

    Returns
    -------
    pandas.DataFrame
        One row per run: executor, variant, workers, n_tasks, repeat, seconds, us_per_task.
    """
    rows = []
    chosen = variants(executors)
    disable = None if progress is None else not progress
    with tqdm(
        total=len(chosen) * (repeats + 1), desc="dispatch", unit="run", disable=disable
    ) as bar:
        for name, variant, label in chosen:
            spec = parse_spec(label)
            count = workers if spec.executor_class.parallel else 1
            bar.set_postfix_str(label)
            for repeat in range(repeats + 1):  # the first is a warm-up
                with spec.build(count) as executor:
                    start = time.perf_counter()
                    executor.run(noop, range(n_tasks))
                    seconds = time.perf_counter() - start
                if repeat:
                    rows.append((name, variant, count, n_tasks, repeat - 1, seconds))
                bar.update()
    table = pd.DataFrame(
        rows, columns=["executor", "variant", "workers", "n_tasks", "repeat", "seconds"]
    )
    table["us_per_task"] = table["seconds"] / table["n_tasks"] * 1e6
    return table


def startup_cost(
    methods: Iterable[str] | None = None,
    workers: int = 2,
    repeats: int = 5,
    progress: bool | None = False,
) -> pd.DataFrame:
    """Time starting a pool until its first result, and stopping it, per start method.

    ``progress``: a progress bar on standard error (None: only where it is a terminal).

    Returns
    -------
    pandas.DataFrame
        One row per run: method, workers, repeat, start_s, stop_s.
    """
    chosen = multiprocessing.get_all_start_methods() if methods is None else list(methods)
    rows = []
    disable = None if progress is None else not progress
    bar = tqdm(total=len(chosen) * (repeats + 1), desc="start-up", unit="pool", disable=disable)
    for method in chosen:
        for repeat in range(repeats + 1):
            bar.update()
            context = multiprocessing.get_context(method)
            t0 = time.perf_counter()
            pool = context.Pool(workers)
            pool.apply(os.getpid)  # a worker is up and answering; nothing to import
            t1 = time.perf_counter()
            pool.close()
            pool.join()
            t2 = time.perf_counter()
            if repeat:
                rows.append((method, workers, repeat - 1, t1 - t0, t2 - t1))
    bar.close()
    return pd.DataFrame(rows, columns=["method", "workers", "repeat", "start_s", "stop_s"])


def dispatch_figure(dispatch: pd.DataFrame, startup: pd.DataFrame, *, caption: str) -> Figure:
    """Bar charts: median microseconds per trivial task, and pool start + stop per method.

    The start-up chart's legend sits outside it, to its right, clear of every bar's label.
    """
    fig = Figure(figsize=(12.5, 4.6), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    per_task = dispatch.groupby(["executor", "variant"], sort=False)["us_per_task"].median()
    labels = [
        name if variant == "default" else f"{name} ({variant})" for name, variant in per_task.index
    ]
    bars = left.barh(labels, per_task.to_numpy(), color="tab:blue")
    left.bar_label(bars, fmt="%.1f µs", padding=3, fontsize=8)
    left.set_xscale("log")
    if len(per_task) and float(per_task.max()) > 0:  # room for the longest bar's label
        left.set_xlim(right=float(per_task.max()) * 8)
    left.invert_yaxis()
    left.set_xlabel("µs per trivial task (median, log scale)")
    n_tasks = int(dispatch["n_tasks"].iloc[0]) if not dispatch.empty else 0
    left.set_title(f"Dispatch cost: {n_tasks} tasks that do nothing", fontsize=10)
    left.grid(axis="x", alpha=0.3)
    medians = startup.groupby("method", sort=False)[["start_s", "stop_s"]].median() * 1000
    methods = list(medians.index)
    right.bar(methods, medians["start_s"], label="start, until the first result")
    stop = right.bar(
        methods, medians["stop_s"], bottom=medians["start_s"], label="stop (close + join)"
    )
    right.bar_label(
        stop, labels=[f"{v:.0f} ms" for v in medians.sum(axis=1)], padding=2, fontsize=8
    )
    right.set_ylabel("ms (median)")
    workers = int(startup["workers"].iloc[0]) if not startup.empty else 0
    right.set_title(f"Pool start + stop, {workers} workers", fontsize=10)
    right.set_ylim(0, float(medians.sum(axis=1).max()) * 1.15)
    right.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    right.grid(axis="y", alpha=0.3)
    fig.supxlabel(caption, fontsize=8, color="0.3")
    return fig

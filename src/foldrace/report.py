"""What ``foldrace run`` prints: the race table, the granularity bound and the scores.

Plain-text tables from a :class:`~foldrace.results.RaceResult`: one row per executor and
worker count, the bound at each worker count, and every executor's averaged scores at full
precision with the identical-scores verdict.
"""

from __future__ import annotations

import pandas as pd

from foldrace.bounds import equal_task_bound
from foldrace.results import RaceResult

__all__ = ["aligned", "format_bound", "format_scores", "format_search", "format_summary"]


def format_summary(result: RaceResult) -> str:
    """The table ``foldrace run`` prints: executor x workers with time, speedup and bound."""
    table = result.summary()
    shown = pd.DataFrame(
        {
            "executor": table["executor"],
            "tasks": table["granularity"].str.replace("fold-model", "fold x model"),
            "workers": table["workers"],
            "median s": table["median_s"].map("{:.3f}".format),
            "speedup": [
                f"{speedup:.2f}×" + ("!" if disturbed else " ")
                for speedup, disturbed in zip(table["speedup"], table["disturbed"], strict=True)
            ],
            "predicted": table["predicted"].map("{:.2f}×".format),
            "bound": table["bound"].map("{:.2f}×".format),
            "efficiency": table["efficiency"].map("{:.0%}".format),
            "pool ms": (table["pool_s"] * 1000).map("{:.0f}".format),
            "with pool": table["total_speedup"].map("{:.2f}×".format),
        }
    )
    if table["granularity"].nunique() == 1:
        shown = shown.drop(columns="tasks")
    lines = [aligned(shown)]
    for row in table[table["disturbed"]].itertuples():
        lines.append(f"! {row.executor} at {row.workers} workers: {row.disturbance}")
    return "\n".join(lines)


def aligned(table: pd.DataFrame) -> str:
    """Plain-text table: first column left-aligned, the others right-aligned."""
    rows = [list(map(str, table.columns)), *table.astype(str).values.tolist()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def format_scores(result: RaceResult) -> str:
    """Averaged score per executor and model, at full precision, and the identical line."""
    averages = result.averages()
    table = (
        averages.groupby(["executor", "model"], sort=False)["score"]
        .agg(
            lambda s: (
                repr(float(s.iloc[0])) if s.nunique() == 1 else f"{s.nunique()} different values"
            )
        )
        .unstack("model")
    )
    table = table.loc[result.executors, result.models].reset_index()
    folds = result.meta.get("workload", {}).get("n_folds", "?")
    heading = f"Averaged held-out score over {folds} folds (mean in fold order):"
    return f"{heading}\n{aligned(table)}\n{result.check().describe()}"


def format_bound(result: RaceResult) -> str:
    """What task granularity allows at each worker count above one."""
    summary = result.summary()
    lines = []
    for granularity in result.granularities:
        durations = result.task_durations(granularity)
        n = len(durations)
        shown = ", ".join(f"{d:.3f}" for d in durations[:8]) + (", ..." if n > 8 else "")
        lines.append(f"Granularity bound of {n} tasks per {granularity} (serial: {shown} s):")
        rows = summary[summary["granularity"] == granularity].drop_duplicates("workers")
        for w, bound in rows[["workers", "bound"]].itertuples(index=False):
            if w > 1:
                lines.append(
                    f"  {int(w)} workers: ≤ {bound:.2f}×  ({n} equal tasks: ≤ "
                    f"{equal_task_bound(n, int(w)):.2f}×, ideal: {w:.2f}×)"
                )
    return "\n".join(lines)


SEARCH_ROWS = 10
"""Candidates shown by :func:`format_search`, best first."""


def format_search(result: RaceResult) -> str:
    """A search's best candidates as scikit-learn ranks them, and the candidate selected.

    The line after the table says whether every run (every executor, worker count and
    repeat) ranks the candidates alike and selects the same one.
    """
    ranking = result.ranking()
    shown = ranking.sort_values(["rank_test_score"], kind="stable").head(SEARCH_ROWS)
    table = pd.DataFrame(
        {
            "rank": shown["rank_test_score"],
            "mean score": [repr(float(v)) for v in shown["mean_test_score"]],
            "candidate": shown["candidate"],
        }
    )
    selected = ranking.loc[ranking["selected"], "candidate"].iloc[0]
    selections = result.selections()
    agree = bool(selections["same_ranks"].all()) and set(selections["selected"]) == {selected}
    more = len(ranking) - len(shown)
    heading = f"Search: {len(ranking)} candidates, ranked as scikit-learn ranks them" + (
        f" (best {len(shown)} shown)" if more else ""
    )
    verdict = (
        f"selected: {selected}; every run ({len(selections)}) ranks the candidates alike "
        "and selects it"
        if agree
        else f"selected by the reference: {selected}; runs DISAGREE on the ranking:\n"
        + aligned(selections[~selections["same_ranks"]])
    )
    return f"{heading}\n{aligned(table.reset_index(drop=True))}\n{verdict}"

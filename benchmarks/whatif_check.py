"""The what-if predictor checked, then drawn to 64 workers.

Races two workloads at 1 to 4 workers on this machine, more workers than CPUs included:

- the blog's: 1000 x 20 samples, 3 folds, two models (3 tasks of about equal cost);
- the reference grid of tutorial 13: ``RandomForestClassifier(random_state=0)`` over
  ``n_estimators`` in 10, 25, 50, 100, 200 and ``min_samples_leaf`` in 1, 20, 5 folds of
  2000 x 20 samples (50 tasks of very unequal cost).

For each, :func:`foldrace.whatif.predicted_curves` predicts every worker count from the
run's own serial task times and each executor's cost per task measured at 1 worker, with
the CPUs of this machine shared (so 3 and 4 workers on 2 CPUs are predicted as
oversubscribed), and the table sets those predictions beside the measured speedups. Then
the same predictions with a CPU per worker are drawn to 64 workers.

Run: ``python benchmarks/whatif_check.py [--repeats 3] [--markdown docs/outputs/whatif-check.md]
[--figures docs/figures]`` (``--size small`` for a quick check; ``--workers 1,2,4,8,16`` and
``--executors map,submit`` on a machine with more CPUs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from sklearn.ensemble import RandomForestClassifier

from foldrace import RaceResult, default_workload, race
from foldrace.executors import usable_cpus
from foldrace.machine import machine_caption
from foldrace.plots import write_figure
from foldrace.search import search_workload
from foldrace.whatif import plot_whatif, predicted_curves

ENTRANTS = ("apply", "apply_async", "map", "starmap", "submit")
WORKERS = (1, 2, 3, 4)
GRID = {"n_estimators": [10, 25, 50, 100, 200], "min_samples_leaf": [1, 20]}


def workloads(size: str) -> dict[str, object]:
    """The two workloads at ``size`` (``reference`` or ``small``), by name."""
    blog = default_workload(n_samples=1000 if size == "reference" else 300)
    base = default_workload(n_samples=2000 if size == "reference" else 300)
    grid = GRID if size == "reference" else {"n_estimators": [5, 20], "min_samples_leaf": [1]}
    forest = RandomForestClassifier(random_state=0)
    folds = 5 if size == "reference" else 3
    search = search_workload(forest, grid, X=base.X, y=base.y, folds=folds, name="rf")
    return {"blog": blog, "grid": search}


def _counts(text: str) -> tuple[int, ...]:
    """``"1,2,4"`` as ``(1, 2, 4)``."""
    return tuple(int(part) for part in text.split(","))


def _names(text: str) -> tuple[str, ...]:
    """``"map,submit"`` as ``("map", "submit")``."""
    return tuple(part.strip() for part in text.split(","))


def check_table(result: RaceResult, cpus: int) -> pd.DataFrame:
    """Predicted (``cpus`` shared) against measured speedup at every raced worker count."""
    curves = predicted_curves(result, sorted(set(result.timings["workers"])), cpus)
    curves = curves.dropna(subset=["measured"])
    return curves.assign(error=curves["predicted"] / curves["measured"] - 1)


def markdown(tables: dict[str, pd.DataFrame], caption: str) -> str:
    """The check as Markdown: one table per workload, then the machine."""
    parts = []
    for name, table in tables.items():
        rows = ["| executor | workers | predicted | measured | predicted / measured - 1 |"]
        rows.append("|---|--:|--:|--:|--:|")
        for row in table.itertuples():
            rows.append(
                f"| `{row.executor}` | {row.workers} | {row.predicted:.2f}× | "
                f"{row.measured:.2f}× | {row.error:+.1%} |"
            )
        parts.append(f"**{name}**\n\n" + "\n".join(rows))
    return "\n\n".join(parts) + f"\n\n{caption}\n"


def main(argv: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Race, check the predictor, draw the what-if figures; return the check tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("reference", "small"), default="reference")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown", type=Path, help="write the check table here")
    parser.add_argument("--figures", type=Path, help="write whatif-NAME.png/.svg here")
    parser.add_argument("--results", type=Path, help="write each race's results here")
    parser.add_argument(
        "--workers", type=_counts, default=WORKERS, help="worker counts, e.g. 1,2,4,8,16"
    )
    parser.add_argument(
        "--executors", type=_names, default=ENTRANTS, help="entrants, e.g. map,submit"
    )
    parser.add_argument(
        "--workload", choices=("blog", "grid"), action="append", help="only these workloads"
    )
    args = parser.parse_args(argv)
    cpus = usable_cpus()
    tables = {}
    for name, workload in workloads(args.size).items():
        if args.workload and name not in args.workload:
            continue
        result = race(workload, args.executors, args.workers, repeats=args.repeats)
        if not result.check().identical:
            raise SystemExit(f"{name}: the executors' averaged scores differ")
        tables[name] = check_table(result, cpus)
        shown = tables[name][["executor", "workers", "predicted", "measured", "error"]]
        print(f"{name}, predicted with {cpus} CPUs shared:\n{shown.round(3).to_string()}\n")
        if args.figures:
            write_figure(plot_whatif(result), args.figures, f"whatif-{name}")
        if args.results:
            result.write(args.results / f"whatif-{name}")
    caption = (
        f"{args.repeats} repeats per cell, medians. Machine: "
        f"{machine_caption(result.meta['machine'])}."
    )
    if args.markdown:
        args.markdown.write_text(markdown(tables, caption))
    return tables


if __name__ == "__main__":
    main()

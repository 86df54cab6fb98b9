"""Searches raced: the reference grid and a randomized gradient-boosting search.

Races foldrace's strategies and scikit-learn's own ``n_jobs`` (``gridsearch``,
``cross_validate``) side by side on two searches, on as many workers as there are CPUs:

- the reference grid: ``RandomForestClassifier(random_state=0)`` over ``n_estimators``
  in 10, 25, 50, 100, 200 and ``min_samples_leaf`` in 1, 20, 5 stratified folds of
  2000 x 20 samples (50 tasks of very unequal cost);
- a randomized search: 30 candidates of ``GradientBoostingClassifier(random_state=0)``
  drawn with a seed, 3 folds.

For each it checks what every entrant must give (scores bit for bit, the same selected
candidate as ``GridSearchCV`` / ``RandomizedSearchCV`` fitted on their own) and writes a
Markdown table: each entrant's median run, its start-up and shutdown, speedup, predicted
speedup and the gap between them, and its share of the bound from its own task times.

Run: ``python benchmarks/search_race.py [--repeats 3] [--markdown docs/outputs/search-race.md]``
(``--size small`` for a quick check); the exit status is 1 if a check fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scipy.stats import loguniform, randint
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from foldrace import RaceResult, default_workload, race
from foldrace.accounting import PARTS, account
from foldrace.executors import usable_cpus
from foldrace.machine import machine_caption
from foldrace.search import search_workload

ENTRANTS = (
    "apply_async",
    "apply_async/order=longest-first",
    "map",
    "map/chunksize=1",
    "starmap",
    "submit",
    "submit/order=longest-first",
    "joblib",
    "gridsearch",
    "cross_validate",
)
"""foldrace's strategies with their dispatch knobs, then scikit-learn's own n_jobs."""

SKLEARN = ("gridsearch", "cross_validate")

GRID = {"n_estimators": [10, 25, 50, 100, 200], "min_samples_leaf": [1, 20]}
SPACE = {
    "n_estimators": randint(10, 120),
    "max_depth": randint(1, 5),
    "learning_rate": loguniform(0.02, 0.5),
}


def searches(size: str) -> list[tuple[str, Any, Any]]:
    """(title, workload, scikit-learn's own search) for each search at ``size``."""
    scale = {"reference": (2000, 1000), "small": (300, 300)}[size]
    base = default_workload(n_samples=scale[0])
    forest = RandomForestClassifier(random_state=0)
    grid = GRID if size == "reference" else {"n_estimators": [5, 20], "min_samples_leaf": [1]}
    folds = 5 if size == "reference" else 3
    rf = search_workload(forest, grid, X=base.X, y=base.y, folds=folds, name="rf")
    rf_search = GridSearchCV(forest, grid, cv=list(rf.folds), scoring=rf.scorer)
    small = default_workload(n_samples=scale[1])
    boosting = GradientBoostingClassifier(random_state=0)
    n_iter = 30 if size == "reference" else 4
    gb = search_workload(
        boosting,
        param_distributions=SPACE,
        n_iter=n_iter,
        random_state=0,
        X=small.X,
        y=small.y,
        folds=3,
        name="gb",
    )
    gb_search = RandomizedSearchCV(
        boosting, SPACE, n_iter=n_iter, random_state=0, cv=list(gb.folds), scoring=gb.scorer
    )
    return [
        (f"Grid search: {rf.description}", rf, (rf_search, base)),
        (f"Randomized search: {gb.description}", gb, (gb_search, small)),
    ]


def checks(result: RaceResult, search: Any, data: Any) -> dict[str, Any]:
    """The race's scores and selection against scikit-learn's own search, fitted here."""
    search.fit(data.X, data.y)
    ranking = result.ranking()
    same_scores = [s.hex() for s in ranking["mean_test_score"]] == [
        float(s).hex() for s in search.cv_results_["mean_test_score"]
    ]
    selected = ranking.loc[ranking["selected"], "params"].iloc[0]
    return {
        "identical": result.check().identical,
        "same_scores": same_scores,
        "same_choice": selected == search.best_params_,
        "same_in_every_run": bool(result.selections()["same_ranks"].all()),
    }


def markdown(title: str, result: RaceResult, facts: dict[str, Any]) -> str:
    """One search's table and what it shows."""
    summary = result.summary()
    cells = summary[summary["executor"] != "serial"].set_index("executor")
    lines = [
        f"**{title}**",
        "",
        "| entrant | run s | start + stop s | speedup | predicted | gap | of run bound |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for name, row in cells.iterrows():
        gap = row["predicted"] / row["speedup"] - 1
        lines.append(
            f"| `{name}` | {row['median_s']:.3f} | {row['pool_s']:.3f} | {row['speedup']:.3f} "
            f"| {row['predicted']:.3f} | {gap:+.1%} | {row['speedup'] / row['run_bound']:.1%} |"
        )
    ours = cells[~cells.index.isin(SKLEARN)]
    best = ours["median_s"].idxmin()
    grid = cells.loc["gridsearch", "median_s"] if "gridsearch" in cells.index else None
    meta = result.meta
    lines += [
        "",
        f"Serial: {summary.set_index('executor').loc['serial', 'median_s']:.3f} s; "
        f"{sum(meta['workload']['n_tasks'].values())} tasks on {int(cells['workers'].iloc[0])} "
        "workers, "
        f"median of {meta['repeats']} repeats. Fastest foldrace strategy: `{best}`, "
        f"{cells.loc[best, 'speedup'] / cells.loc[best, 'run_bound']:.1%} of the bound from "
        "its own task times"
        + (
            f"; warm `GridSearchCV(n_jobs)` took {grid / cells.loc[best, 'median_s']:.3f}x as long."
            if grid is not None
            else "."
        ),
        f"Largest gap between predicted and measured speedup: "
        f"{(cells['predicted'] / cells['speedup'] - 1).abs().max():.1%}. Scores identical "
        f"across entrants: {facts['identical']}; mean scores equal scikit-learn's own search "
        f"bit for bit: {facts['same_scores']}; same selected candidate: "
        f"{facts['same_choice']}, in every run: {facts['same_in_every_run']}.",
        f"Machine: {machine_caption(meta['machine'])}.",
    ]
    shown = [best, *(name for name in SKLEARN if name in cells.index)]
    parts = account(result).set_index("executor").loc[shown]
    lines += [
        "",
        "Where `workers x wall` went, in the median run (seconds; see the explanation page):",
        "",
        "| entrant | workers x wall | " + " | ".join(PARTS.values()) + " |",
        "|---|--:|" + "--:|" * len(PARTS),
    ]
    for name, row in parts.iterrows():
        cells_text = " | ".join(f"{row[part]:.3f}" for part in PARTS)
        lines.append(f"| `{name}` | {row['total_s']:.3f} | {cells_text} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Race both searches; print the tables, and save them as Markdown if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", choices=["reference", "small"], default="reference")
    parser.add_argument("--markdown", type=Path, help="also write the tables as Markdown here")
    args = parser.parse_args(argv)
    workers = usable_cpus()
    texts, outcome = [], {}
    for title, workload, (search, data) in searches(args.size):
        result = race(workload, ENTRANTS, [workers], repeats=args.repeats, progress=True)
        facts = checks(result, search, data)
        texts.append(markdown(title, result, facts))
        outcome[workload.name] = {"result": result, **facts}
    text = "\n\n".join(texts)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return outcome


def all_checks_hold(outcome: dict[str, Any]) -> bool:
    """Whether every check of every search held."""
    keys = ("identical", "same_scores", "same_choice", "same_in_every_run")
    return all(facts[key] for facts in outcome.values() for key in keys)


if __name__ == "__main__":
    sys.exit(0 if all_checks_hold(main()) else 1)

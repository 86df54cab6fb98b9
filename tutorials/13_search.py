# %% [markdown]
# # Tutorial 13: from folds to a search: candidates x folds, raced against GridSearchCV(n_jobs)
#
# Real model selection is a search: every candidate setting of an estimator's parameters,
# cross-validated. `search_workload` makes one named model per candidate, in the order
# `GridSearchCV` tries them; the race then runs one task per candidate and fold, tasks of
# very unequal cost, ranks the candidates as scikit-learn does and checks that every
# strategy selects the same one. In the race too, what most users run:
# `GridSearchCV(n_jobs=workers)` and a loop of `cross_validate(n_jobs=workers)`, their
# scores checked like every entrant's, and their start-up timed apart from the run.
#
# Run: `python tutorials/13_search.py [OUT_DIR]` (writes `search-timeline.png`)

# %%
from __future__ import annotations

from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV

from foldrace import default_workload, race
from foldrace.executors import usable_cpus
from foldrace.plots import TUTORIAL_OUT, plot_timeline, write_figure
from foldrace.report import format_search
from foldrace.scripts import script_arguments
from foldrace.search import search_workload


# %%
def main(
    out: str = TUTORIAL_OUT,
    n_samples: int = 2000,
    n_estimators: tuple[int, ...] = (10, 25, 50, 100, 200),
    min_samples_leaf: tuple[int, ...] = (1, 20),
    n_folds: int = 5,
    repeats: int = 3,
    granularity: str = "fold-model",
    # --8<-- [start:strategies]
    strategies: tuple[str, ...] = (
        "apply",
        "apply_async",
        "apply_async/order=longest-first",  # the longest tasks first
        "map",  # chunks of about n / (4 x workers) tasks
        "map/chunksize=1",
        "starmap",
        "submit",
        "joblib",
        "gridsearch",  # scikit-learn's GridSearchCV(n_jobs=workers)
        "cross_validate",  # a loop of cross_validate(n_jobs=workers), one per candidate
    ),
    # --8<-- [end:strategies]
) -> dict:
    """Race a random-forest grid, compare with GridSearchCV(n_jobs), draw the timelines."""
    # --8<-- [start:workload]
    base = default_workload(n_samples=n_samples)
    grid = {"n_estimators": list(n_estimators), "min_samples_leaf": list(min_samples_leaf)}
    forest = RandomForestClassifier(random_state=0)
    workload = search_workload(forest, grid, X=base.X, y=base.y, folds=n_folds, name="rf")
    print(workload.description)
    # --8<-- [end:workload]

    # --8<-- [start:race]
    workers = usable_cpus()
    result = race(workload, strategies, [workers], repeats=repeats, granularity=granularity)
    summary = result.summary()
    columns = ["executor", "median_s", "pool_s", "speedup", "predicted", "bound", "run_bound"]
    print(summary[columns].round(3).to_string(index=False))
    print(format_search(result))
    # --8<-- [end:race]

    # --8<-- [start:gridsearch]
    search = GridSearchCV(forest, grid, cv=list(workload.folds), scoring=workload.scorer)
    search.fit(base.X, base.y)  # scikit-learn on its own, for its ranks and best_params_
    ranking = result.ranking()
    same_scores = [s.hex() for s in ranking["mean_test_score"]] == [
        float(s).hex() for s in search.cv_results_["mean_test_score"]
    ]
    selected = ranking.loc[ranking["selected"], "params"].iloc[0]
    cells = summary[summary["executor"] != "serial"].set_index("executor")
    ours = cells[~cells.index.isin(["gridsearch", "cross_validate"])]
    fastest, slowest = ours["median_s"].idxmin(), ours["median_s"].idxmax()
    best = cells.loc[fastest]
    print(
        f"fastest: {fastest}, {best['median_s']:.3f} s, {best['speedup'] / best['run_bound']:.0%} "
        "of the bound from its own task times"
    )
    for name in ("gridsearch", "cross_validate"):
        if name in cells.index:
            cell = cells.loc[name]
            print(
                f"{name}: {cell['median_s']:.3f} s with its workers warm "
                f"({cell['median_s'] / best['median_s']:.2f}x the fastest), and "
                f"{cell['pool_s']:.3f} s to start and stop them"
            )
    print(
        f"same mean scores as GridSearchCV, bit for bit: {same_scores}; same choice: "
        f"{selected == search.best_params_} ({search.best_params_})"
    )
    # --8<-- [end:gridsearch]

    # --8<-- [start:timeline]
    write_figure(plot_timeline(result, workers=workers), out, "search-timeline")
    # --8<-- [end:timeline]
    return {
        "identical": result.check().identical,
        "executors": result.executors,
        "same_scores": same_scores,
        "same_choice": selected == search.best_params_,
        "n_tasks": result.meta["workload"]["n_tasks"],
        "fastest": fastest,
        "slowest": slowest,
    }


# %%
if __name__ == "__main__":
    main(*script_arguments()[:1])

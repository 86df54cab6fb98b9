"""What a user might pick instead, measured in the same run as foldrace's executors.

- ``blog apply_async``: a faithful copy of the blog's hand-written ``apply_async`` +
  callback loop (:mod:`foldrace.blog`);
- ``cross_validate``: scikit-learn's ``cross_validate(n_jobs=w)``, once per model;
- ``joblib``: ``joblib.Parallel`` (loky) over foldrace's own fold function.

Each times whole calls, start-up included, and checks its scores against the serial
reference. joblib keeps its loky workers alive between calls, so after the first call it
pays no start-up; the ``cold start`` variants shut the workers down before every round
(untimed), as a fresh Python process would find them. foldrace's pool executors always
start a fresh pool.
"""

from __future__ import annotations

import numpy as np
import pytest
from joblib import Parallel, delayed
from joblib.externals.loky import get_reusable_executor

from conftest import bench_sizes, bench_workers, rounds
from foldrace import benchmark_fold, mean_scores
from foldrace.blog import run_apply_async
from foldrace.testing import cross_validated_means
from foldrace.workload import GRANULARITIES

WORKERS = [pytest.param(w, id=f"{w}") for w in bench_workers()]
STARTS = ["warm", "cold"]


def _stop_loky_workers() -> None:
    """Shut joblib's reusable loky workers down, so the next call starts them afresh."""
    get_reusable_executor().shutdown(wait=True)


def _label(name: str, start: str) -> str:
    return name if start == "warm" else f"{name} (cold start)"


def _record(benchmark, size, workload, name, workers, granularity, n_tasks, scores):
    benchmark.extra_info.update(
        kind="foldrace.race",
        executor=name,
        schedule="list",
        workers=workers,
        workload=size,
        n_samples=workload.shape[0],
        granularity=granularity,
        n_tasks=n_tasks,
        scores=scores,
    )


@pytest.mark.parametrize("size", bench_sizes())
@pytest.mark.parametrize("workers", WORKERS)
def test_blog_apply_async(benchmark, workload_of, reference_of, workers, size):
    workload = workload_of(size)
    X, y, folds = workload.X, workload.y, list(workload.folds)
    benchmark.group = f"race: {size} workload, one task per fold"
    results = benchmark.pedantic(
        run_apply_async, args=(X, y, folds, workers), rounds=rounds(size), warmup_rounds=1
    )
    # The blog collects results in completion order and has no fold ids, so only the
    # multiset of per-fold scores can be checked; its mean may differ in the last bit.
    reference = reference_of(size)
    assert len(results) == len(folds), "a fold is missing: the blog's loop lost a task"
    for model, expected in reference["fold_scores"].items():
        assert sorted(r[model] for r in results) == expected
    scores = {m: float(np.mean([r[m] for r in results])) for m in reference["averages"]}
    _record(benchmark, size, workload, "blog apply_async", workers, "fold", len(folds), scores)


@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("size", bench_sizes())
@pytest.mark.parametrize("workers", WORKERS)
def test_cross_validate(benchmark, workload_of, reference_of, workers, size, start):
    workload = workload_of(size)
    folds = list(workload.folds)

    def run() -> dict[str, float]:
        return cross_validated_means(workload, n_jobs=workers)

    benchmark.group = f"race: {size} workload, one task per fold-model"
    setup = _stop_loky_workers if start == "cold" else None
    scores = benchmark.pedantic(run, setup=setup, rounds=rounds(size), warmup_rounds=1)
    assert scores == reference_of(size)["averages"]
    n_tasks = len(folds) * len(workload.models)
    name = _label("cross_validate", start)
    _record(benchmark, size, workload, name, workers, "fold-model", n_tasks, scores)


@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("granularity", GRANULARITIES)
@pytest.mark.parametrize("size", bench_sizes())
@pytest.mark.parametrize("workers", WORKERS)
def test_joblib(benchmark, workload_of, reference_of, workers, size, granularity, start):
    workload = workload_of(size)
    tasks = workload.tasks(granularity)

    def run():
        return Parallel(n_jobs=workers)(
            delayed(benchmark_fold)(*workload.common_args, task) for task in tasks
        )

    benchmark.group = f"race: {size} workload, one task per {granularity}"
    setup = _stop_loky_workers if start == "cold" else None
    results = benchmark.pedantic(run, setup=setup, rounds=rounds(size), warmup_rounds=1)
    scores = mean_scores(results)
    assert scores == reference_of(size)["averages"]
    name = _label("joblib", start)
    _record(benchmark, size, workload, name, workers, granularity, len(tasks), scores)

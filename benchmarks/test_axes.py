"""The configuration axes one at a time: data passing x data size, start method, BLAS threads.

Each benchmark races one executor configuration on the largest worker count, times the
whole call (start-up, dispatch + compute, shutdown, also recorded apart), records the bytes
pickled per task and per worker, and fails if the scores differ from serial by one bit.

- ``FOLDRACE_BENCH_DATA_SIZES``: samples for the data-passing sweep (default:
  ``1000,100000,1000000``); a Gaussian naive Bayes keeps compute small, so moving the
  data shows.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics

import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.naive_bayes import GaussianNB

from conftest import bench_workers
from foldrace import Workload, benchmark_fold, default_workload, mean_scores
from foldrace.executors import EXECUTORS, parse_spec
from foldrace.harness import payload_sizes, timed_run

WORKERS = max(bench_workers())
DATA_STRATEGIES = ("apply_async", "starmap", "submit", "joblib")
START_STRATEGIES = ("apply_async", "starmap", "submit")


def data_sizes() -> list[int]:
    """Sample counts for the data-passing sweep."""
    text = os.environ.get("FOLDRACE_BENCH_DATA_SIZES", "1000,100000,1000000")
    return sorted({int(float(part)) for part in text.split(",") if part.strip()})


_WORKLOADS: dict = {}


def workload(kind: str, n_samples: int) -> tuple[Workload, dict[str, float]]:
    """A workload and its serial averages, built once per (kind, size)."""
    key = (kind, n_samples)
    if key not in _WORKLOADS:
        base = default_workload(n_samples=n_samples)
        if kind == "nb":
            models = {"nb": GaussianNB()}
        elif kind == "hgb":
            models = {"hgb": HistGradientBoostingClassifier(max_iter=50, random_state=0)}
        else:
            models = base.models
        chosen = Workload(base.X, base.y, models, folds=base.folds, name=f"{kind}-{n_samples}")
        reference = mean_scores([benchmark_fold(*chosen.common_args, t) for t in chosen.tasks()])
        _WORKLOADS[key] = (chosen, reference)
    return _WORKLOADS[key]


def _race(benchmark, label, load, *, rounds=3, blas_threads=1, **info):
    chosen, reference = load
    spec = parse_spec(label)
    workers = WORKERS if spec.executor_class.parallel else 1
    tasks = chosen.tasks()
    runs = []
    benchmark.pedantic(
        lambda: runs.append(timed_run(spec, workers, chosen, tasks, blas_threads=blas_threads)),
        rounds=rounds,
        warmup_rounds=1,
    )
    scores = mean_scores(runs[-1].results)
    assert scores == reference, f"{label} changed the scores"
    benchmark.extra_info.update(
        kind="foldrace.axes",
        executor=spec.label,
        config=spec.describe(),
        workers=workers,
        blas_threads=blas_threads,
        n_samples=chosen.shape[0],
        workload=chosen.name,
        scores=scores,
        startup_s=statistics.median(run.startup_s for run in runs),
        run_s=statistics.median(run.run_s for run in runs),
        shutdown_s=statistics.median(run.shutdown_s for run in runs),
        **payload_sizes(spec, chosen, tasks[0]),
        **info,
    )


DATA_CELLS = [
    pytest.param(f"{name}/{mode}", id=f"{name}-{mode}")
    for name in DATA_STRATEGIES
    for mode in EXECUTORS[name].data_modes
]


@pytest.mark.parametrize("n_samples", data_sizes())
@pytest.mark.parametrize("label", DATA_CELLS)
def test_data_passing(benchmark, label, n_samples):
    benchmark.group = f"data passing: {n_samples} samples, naive Bayes, {WORKERS} workers"
    _race(benchmark, label, workload("nb", n_samples), axis="data_passing")


@pytest.mark.parametrize("method", multiprocessing.get_all_start_methods())
@pytest.mark.parametrize("name", START_STRATEGIES)
def test_start_method(benchmark, name, method):
    benchmark.group = f"start method: seed workload, {WORKERS} workers"
    _race(benchmark, f"{name}/{method}", workload("blog", 1000), axis="start_method")


@pytest.mark.parametrize("blas", [1, None], ids=["blas-1", "blas-unlimited"])
@pytest.mark.parametrize("label", ["serial", "starmap/forkserver", "starmap/thread"])
def test_blas_threads(benchmark, label, blas):
    benchmark.group = "BLAS threads: 20000 samples, HistGradientBoosting"
    _race(benchmark, label, workload("hgb", 20000), blas_threads=blas, axis="blas_threads")

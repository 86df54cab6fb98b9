"""Every strategy on every pool kind x worker count x workload size x task granularity.

Each benchmark times whole calls as a user makes them: pool start-up, dispatch + compute,
and shutdown (the phases are also recorded apart in ``extra_info``), and fails if the
averaged scores differ from the serial reference by a single bit.
"""

from __future__ import annotations

import statistics

import pytest

from conftest import bench_sizes, bench_workers, rounds
from foldrace import mean_scores
from foldrace.executors import parse_spec, standard_specs
from foldrace.harness import timed_run
from foldrace.workload import GRANULARITIES

CELLS = [
    pytest.param(spec.label, w, id=f"{spec.label}-{w}")
    for spec in standard_specs()
    for w in (bench_workers() if spec.executor_class.parallel else [1])
]


@pytest.mark.parametrize("granularity", GRANULARITIES)
@pytest.mark.parametrize("size", bench_sizes())
@pytest.mark.parametrize(("executor", "workers"), CELLS)
def test_race(benchmark, workload_of, reference_of, executor, workers, size, granularity):
    workload = workload_of(size)
    tasks = workload.tasks(granularity)
    runs = []
    benchmark.group = f"race: {size} workload, one task per {granularity}"
    benchmark.pedantic(
        lambda: runs.append(timed_run(executor, workers, workload, tasks)),
        rounds=rounds(size),
        warmup_rounds=1,
    )
    spec = parse_spec(executor)
    results = runs[-1].results
    scores = mean_scores(results)
    assert scores == reference_of(size)["averages"], f"{executor} changed the scores"
    durations = [
        statistics.median(run.results[i].duration for run in runs) for i in range(len(tasks))
    ]
    benchmark.extra_info.update(
        kind="foldrace.race",
        executor=executor,
        schedule=spec.executor_class.schedule,
        config=spec.describe(),
        workers=workers,
        workload=size,
        n_samples=workload.shape[0],
        granularity=granularity,
        n_tasks=len(tasks),
        scores=scores,
        task_durations=durations,
        startup_s=statistics.median(run.startup_s for run in runs),
        run_s=statistics.median(run.run_s for run in runs),
        shutdown_s=statistics.median(run.shutdown_s for run in runs),
    )

"""Dispatch cost per trivial task for every strategy and pool kind, and pool start-up per
start method.

``foldrace dispatch`` measures the same things without pytest and draws them as bars.
"""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from conftest import bench_workers
from foldrace.dispatch import noop, variants
from foldrace.executors import parse_spec

N_TASKS = 2000
WORKERS = max(bench_workers())


@pytest.mark.parametrize(
    ("executor", "variant", "label"), [pytest.param(*v, id=f"{v[0]}-{v[1]}") for v in variants()]
)
def test_dispatch(benchmark, executor, variant, label):
    spec = parse_spec(executor)
    workers = WORKERS if spec.executor_class.parallel else 1
    benchmark.group = f"dispatch: {N_TASKS} trivial tasks"
    with parse_spec(label).build(workers) as running:  # start-up is not part of this measure
        results = benchmark.pedantic(
            running.run, args=(noop, range(N_TASKS)), rounds=5, warmup_rounds=1
        )
    assert results == list(range(N_TASKS))
    benchmark.extra_info.update(
        kind="foldrace.dispatch",
        executor=executor,
        variant=variant,
        workers=workers,
        n_tasks=N_TASKS,
    )


@pytest.mark.parametrize("method", multiprocessing.get_all_start_methods())
def test_pool_startup(benchmark, method):
    context = multiprocessing.get_context(method)
    phases = []

    def start_and_stop():
        t0 = time.perf_counter()
        pool = context.Pool(WORKERS)
        pid = pool.apply(os.getpid)
        t1 = time.perf_counter()
        pool.close()
        pool.join()
        phases.append((t1 - t0, time.perf_counter() - t1))
        return pid

    benchmark.group = f"pool start-up and shutdown, {WORKERS} workers"
    assert benchmark.pedantic(start_and_stop, rounds=5, warmup_rounds=1) != os.getpid()
    phases.sort()
    benchmark.extra_info.update(
        kind="foldrace.startup",
        method=method,
        workers=WORKERS,
        start_s=phases[len(phases) // 2][0],
        stop_s=sorted(p[1] for p in phases)[len(phases) // 2],
    )

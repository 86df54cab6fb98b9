"""Every executor configuration: identical scores, fold order, worker counts, lifetime.

The parametrisation reads the registry (:func:`standard_specs`: every strategy on every
pool kind it offers), so a new executor or pool kind is covered automatically.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
import warnings

import pytest

from foldrace import (
    EXECUTORS,
    InputError,
    Workload,
    benchmark_fold,
    executor_names,
    get_executor,
    mean_scores,
)
from foldrace.executors import (
    BLOG_STRATEGIES,
    DEFAULT_START_METHOD,
    LOCAL_BACKENDS,
    cluster_specs,
    expand_specs,
    max_workers,
    parse_spec,
    standard_specs,
    usable_cpus,
)
from foldrace.executors.spec import takes_chunks
from foldrace.testing import (
    FailingClassifier,
    SlowClassifier,
    cross_validated_means,
    uneven_folds,
)

SPECS = [spec.label for spec in standard_specs()]
PARALLEL = [label for label in SPECS if label != "serial"]
CELLS = [("serial", 1)] + [
    (label, w) for label in PARALLEL for w in ((1, 2) if label in BLOG_STRATEGIES else (2,))
]
NOT_SEQUENTIAL = [
    label for label in PARALLEL if parse_spec(label).executor_class.schedule != "sequential"
]


def _run(label, workers, workload):
    common = workload.common_args
    with parse_spec(label).build(workers).bind(common) as executor:
        return executor.run(benchmark_fold, workload.tasks())


def test_registry_lists_strategies_serial_and_the_blogs_five_first():
    assert executor_names() == (
        *BLOG_STRATEGIES,
        "imap_unordered",
        "submit",
        "futures_map",
        "joblib",
        "cross_validate",
        "gridsearch",
        "dask_submit",
        "dask_map",
    )
    for name, cls in EXECUTORS.items():
        assert cls.name == name
        assert cls.summary


def test_standard_configurations_cover_every_local_backend_of_every_strategy():
    assert {"map/thread", "submit/thread", "joblib", "joblib/thread", "gridsearch"} <= set(SPECS)
    assert not {"gridsearch/thread", "serial/thread"} & set(SPECS)
    local = [k for cls in EXECUTORS.values() for k in cls.backend_kinds() if k in LOCAL_BACKENDS]
    assert len(SPECS) == 1 + len(local)
    assert {s.label for s in cluster_specs()} == {
        *(f"{name}/ray" for name in ("apply", "apply_async", "map", "starmap", "imap_unordered")),
        "submit/dask", "futures_map/dask", "dask_submit", "dask_map",
        "joblib/ray", "joblib/dask",  # parallel_config(backend="ray" or "dask")
    }  # fmt: skip


def test_unknown_executor_lists_the_known_ones():
    with pytest.raises(InputError, match="unknown executor 'nope'; known executors: serial, apply"):
        get_executor("nope")


@pytest.fixture(scope="module")
def cross_validated(seed_workload, custom_workload):
    """scikit-learn's own averages on the same folds, estimators and scorer."""
    return {w.name: cross_validated_means(w) for w in (seed_workload, custom_workload)}


@pytest.mark.processes
@pytest.mark.parametrize("workload_name", ["seed_workload", "custom_workload"])
@pytest.mark.parametrize(("name", "workers"), CELLS)
def test_scores_equal_serial_and_cross_validate_bitwise(
    request, cross_validated, workload_name, name, workers
):
    workload: Workload = request.getfixturevalue(workload_name)
    results = _run(name, workers, workload)
    averages = mean_scores(results)
    serial = mean_scores(_run("serial", 1, workload))
    assert averages == serial  # float equality: bit for bit
    assert averages == cross_validated[workload.name]


@pytest.fixture(scope="module")
def uneven_workload(small_workload):
    return Workload(
        small_workload.X,
        small_workload.y,
        {"slow": SlowClassifier(seconds_per_sample=1e-3)},
        folds=uneven_folds(len(small_workload.y), train_sizes=(240, 80, 40), test_size=20),
    )


@pytest.mark.processes
@pytest.mark.parametrize("name", NOT_SEQUENTIAL)
def test_results_come_back_in_fold_order_when_completion_order_differs(uneven_workload, name):
    results = _run(name, 2, uneven_workload)
    assert [r.fold for r in results] == [0, 1, 2]
    finished = [r.fold for r in sorted(results, key=lambda r: r.end)]
    assert finished != [0, 1, 2], "fold 0 is the slowest: it must finish after another fold"
    if parse_spec(name).uses_processes:
        assert len({r.pid for r in results}) == 2
    else:  # threads: one process, the caller's
        assert {r.pid for r in results} == {os.getpid()}


@pytest.mark.processes
@pytest.mark.parametrize("name", ["apply", "apply/thread"])
def test_apply_keeps_one_task_running_at_a_time(uneven_workload, name):
    results = _run(name, 2, uneven_workload)
    for before, after in itertools.pairwise(results):
        assert before.end <= after.start


@pytest.mark.processes
@pytest.mark.parametrize("name", PARALLEL)
def test_a_failing_task_raises_with_its_fold_named(small_workload, name):
    workload = Workload(
        small_workload.X,
        small_workload.y,
        {"bad": FailingClassifier(fail_below=60)},
        folds=uneven_folds(len(small_workload.y), train_sizes=(240, 80, 40), test_size=20),
    )
    with pytest.raises(Exception, match=r"fold 2, model 'bad': ValueError"):
        _run(name, 2, workload)


@pytest.mark.parametrize("name", executor_names())
@pytest.mark.parametrize("workers", [0, -100_000, 1.5, "2", True, None])  # -1: all CPUs
def test_bad_worker_counts_are_refused(name, workers):
    with pytest.raises(InputError, match="workers"):
        get_executor(name)(workers)


def test_worker_count_above_the_cap_is_refused():
    with pytest.raises(InputError, match="more than foldrace allows"):
        get_executor("map")(max_workers() + 1)


def test_serial_refuses_more_than_one_worker():
    with pytest.raises(InputError, match="serial' runs on one worker"):
        get_executor("serial")(2)


@pytest.mark.processes
def test_more_workers_than_cpus_is_allowed(small_workload):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = _run("starmap", usable_cpus() + 1, small_workload)
    assert [r.fold for r in results] == [0, 1, 2]


@pytest.mark.parametrize("name", PARALLEL)
def test_running_outside_the_context_is_an_error(small_workload, name):
    with pytest.raises(RuntimeError, match="not started"):
        parse_spec(name).build(1).bind(small_workload.common_args).run(benchmark_fold, [])


START_METHOD_STRATEGIES = [
    name
    for name, cls in EXECUTORS.items()
    if "process" in cls.backend_kinds() and not cls.start_methods
]


@pytest.mark.processes
@pytest.mark.parametrize("method", ["spawn", "forkserver"])
@pytest.mark.parametrize("name", START_METHOD_STRATEGIES)
def test_scores_are_identical_under_every_start_method(small_workload, name, method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} does not exist on this platform")
    spec = parse_spec(f"{name}/{method}")
    assert spec.start_method == method
    results = _run(spec.label, 2, small_workload)
    assert [r.fold for r in results] == [0, 1, 2]
    assert mean_scores(results) == mean_scores(_run("serial", 1, small_workload))
    assert {r.pid for r in results}.isdisjoint({os.getpid()})


def test_the_start_method_is_explicit_by_default():
    assert get_executor("map")(1).spec.start_method == DEFAULT_START_METHOD
    assert parse_spec("map").start_method == DEFAULT_START_METHOD
    assert parse_spec("map", start_method="spawn").label == "map/spawn"
    assert parse_spec("map/thread").start_method is None
    assert parse_spec("joblib").start_method == "loky"


def test_an_unknown_start_method_is_refused():
    with pytest.raises(InputError, match="offers start method fork, spawn"):
        get_executor("map")(1, start_method="fork-bomb")
    with pytest.raises(InputError, match="unknown option 'fork-bomb'"):
        parse_spec("map/fork-bomb")


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("map/thread/spawn", "'map' on thread workers has no start method to choose"),
        ("map/thread/shared", "'map' on thread workers has no data passing to choose"),
        ("joblib/worker", "'joblib' on process workers offers data passing task, shared"),
        ("joblib/fork", "'joblib' on process workers offers start method loky"),
        ("serial/thread", "'serial' has no backend to choose"),
        ("map/thread/process", "gives backend twice"),
        ("", "executor must be a name like 'map'"),
    ],
)
def test_combinations_a_strategy_cannot_run_are_refused(label, message):
    with pytest.raises(InputError, match=message):
        parse_spec(label)


def test_labels_name_every_non_default_option_and_parse_back():
    for label in ["map", "map/thread", "starmap/spawn/shared", "submit/worker", "joblib/shared"]:
        spec = parse_spec(label)
        assert spec.label == label
        assert parse_spec(spec.label) == spec
    assert parse_spec("map/process/task").label == "map"


@pytest.mark.processes
@pytest.mark.parametrize("name", SPECS)
def test_inner_threads_are_limited_to_one_by_default(name):
    from foldrace.testing import inner_threads

    spec = parse_spec(name)
    workers = 1 if name == "serial" else 2
    with spec.build(workers) as executor:
        assert executor.run(inner_threads, range(4)) == [1, 1, 1, 1]
    own = inner_threads()
    if spec.executor_class.api in ("joblib", "sklearn") and spec.uses_processes:  # loky's own
        own = max(1, usable_cpus() // workers)  # no limit asked: CPUs / workers
    with spec.build(workers, blas_threads=None) as executor:
        assert executor.run(inner_threads, range(4)) == [own] * 4


LIMITS_IN_TURN = """
import json
from foldrace.executors import parse_spec
from foldrace.testing import inner_threads

seen = {}
for label in ("map/forkserver", "submit/forkserver", "map/spawn", "map"):
    for threads in (1, None, 2, None):
        with parse_spec(label).build(2, blas_threads=threads) as executor:
            seen.setdefault(label, []).append(executor.run(inner_threads, range(4)))
print(json.dumps({"seen": seen, "own": inner_threads()}))
"""


@pytest.mark.processes
def test_each_pool_has_its_own_limit_whatever_the_pools_before_it_had():
    """A fork server outlives its pools: one started for a pool limited to one thread must
    not keep a later pool with no limit at one thread (tutorial 11 compares the two)."""
    from foldrace.executors.inner_threads import THREAD_VARIABLES

    defaults = dict.fromkeys(THREAD_VARIABLES, "3")
    done = subprocess.run(  # a fresh process: its fork server starts with the first limit
        [sys.executable, "-c", LIMITS_IN_TURN],
        env=os.environ | defaults,  # the libraries' defaults: 3 threads, on any machine
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout)
    assert outcome["own"] == 3
    for label, seen in outcome["seen"].items():
        assert seen == [[1] * 4, [3] * 4, [2] * 4, [3] * 4], label


@pytest.mark.processes
@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
@pytest.mark.parametrize("name", ["map", "submit", "apply_async"])
def test_forked_workers_start_no_extra_threads(small_workload, name):
    """A forked worker must not restart OpenBLAS's thread server (threads that compete).

    (Spawned workers load OpenBLAS afresh, which starts its idle threads before any limit.)
    """
    from foldrace.testing import os_threads

    common = small_workload.common_args
    with parse_spec(name).build(2).bind(common) as executor:
        executor.run(benchmark_fold, small_workload.tasks())  # BLAS and OpenMP used
        assert executor.run(os_threads, range(4)) == [1, 1, 1, 1]


def test_bad_blas_threads_are_refused():
    with pytest.raises(InputError, match="blas_threads must be a positive integer or None"):
        get_executor("map")(1, blas_threads=0)


CHUNKED = [
    label
    for label in PARALLEL
    if takes_chunks(parse_spec(label).executor_class, parse_spec(label).backend)
]


@pytest.mark.processes
@pytest.mark.parametrize("chunksize", [1, 2, 5])
@pytest.mark.parametrize("name", CHUNKED)
def test_every_chunk_size_gives_the_serial_results_in_task_order(custom_workload, name, chunksize):
    common = custom_workload.common_args
    tasks = custom_workload.tasks("fold-model")  # 8 tasks: chunks of 5 leave a short one
    with parse_spec("serial").build(1).bind(common) as serial:
        expected = serial.run(benchmark_fold, tasks)
    with parse_spec(f"{name}/chunksize={chunksize}").build(2).bind(common) as executor:
        results = executor.run(benchmark_fold, tasks)
    assert [(r.fold, r.scores) for r in results] == [(r.fold, r.scores) for r in expected]


def test_the_chunked_strategies_are_those_that_send_chunks():
    assert {parse_spec(label).strategy for label in CHUNKED} == {
        "map",
        "starmap",
        "imap_unordered",
        "futures_map",
        "joblib",  # batch_size
    }


def test_joblibs_chunk_size_is_its_batch_size_and_it_alone_queues_batches_ahead():
    with parse_spec("joblib/thread/chunksize=3/pre_dispatch=all").build(2) as executor:
        assert executor.backend._parallel.batch_size == 3
        assert executor.backend._parallel.pre_dispatch == "all"
    with parse_spec("joblib/thread").build(2) as executor:
        assert executor.backend._parallel.batch_size == "auto"
        assert executor.backend._parallel.pre_dispatch == "2*n_jobs"
    with pytest.raises(InputError, match="'map' on process workers queues no batches ahead"):
        parse_spec("map/pre_dispatch=all")
    for bad in ["0", "-2*n_jobs", "inf*n_jobs", "nan*n_jobs", "lots", "2*workers"]:
        with pytest.raises(InputError, match="pre_dispatch must be 'all', a whole number"):
            parse_spec(f"joblib/pre_dispatch={bad}")


@pytest.mark.parametrize(
    "name", ["apply", "apply_async", "submit", "gridsearch", "cross_validate", "serial"]
)
def test_a_chunksize_is_refused_where_no_chunks_are_sent(name):
    with pytest.raises(InputError, match=f"'{name}'.* sends no chunks"):
        get_executor(name)(1, chunksize=2)
    with pytest.raises(InputError, match="sends no chunks"):
        parse_spec(f"{name}/chunksize=2")


@pytest.mark.parametrize("chunksize", [0, -1, 1.5, "2", True])
def test_bad_chunk_sizes_are_refused(chunksize):
    with pytest.raises(InputError, match="chunksize must be an integer of at least 1"):
        get_executor("map")(1, chunksize=chunksize)


USERS_JOBLIB = """
import json, os, time
from joblib import Parallel, delayed
from foldrace import benchmark_fold, default_workload
from foldrace.executors import parse_spec

def pid(_):
    time.sleep(0.2)  # both workers take a task
    return os.getpid()

if __name__ == "__main__":
    before = set(Parallel(n_jobs=2)(delayed(pid)(i) for i in range(4)))
    workload = default_workload(n_samples=200)
    with parse_spec(LABEL).build(2).bind(workload.common_args) as executor:
        ours = {r.pid for r in executor.run(benchmark_fold, workload.tasks())}
    after = set(Parallel(n_jobs=2)(delayed(pid)(i) for i in range(4)))
    print(json.dumps([sorted(before), sorted(ours), sorted(after)]))
"""


@pytest.mark.processes
@pytest.mark.parametrize("label", ["joblib", "gridsearch", "cross_validate"])
def test_joblib_leaves_the_users_own_reusable_workers_running(tmp_path, label):
    """scikit-learn's n_jobs reuses loky's one set of workers: a race must not stop them."""
    import json
    import subprocess
    import sys

    script = tmp_path / "users_joblib.py"
    script.write_text(USERS_JOBLIB.replace("LABEL", repr(label)))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )
    before, ours, after = json.loads(done.stdout.splitlines()[-1])
    assert len(before) == 2
    assert after == before, "the user's workers were stopped and started again"
    assert set(ours).isdisjoint(before), "the race must run on workers of its own"
    assert len(ours) == 2, "every task ran in one of the executor's two workers"


@pytest.mark.parametrize(
    "label",
    [
        "map/chunksize=4",
        "starmap/thread/chunksize=1",
        "futures_map/chunksize=2/order=shuffled",
        "submit/order=longest-first",
        "imap_unordered/spawn/shared/chunksize=3",
        "joblib/thread/chunksize=2/pre_dispatch=all",
        "joblib/pre_dispatch=3*n_jobs",
    ],
)
def test_dispatch_knobs_are_label_words_that_parse_back(label):
    spec = parse_spec(label)
    assert spec.label == label
    assert parse_spec(spec.label) == spec
    assert {k: spec.describe()[k] for k in ("chunksize", "order")} == {
        "chunksize": spec.chunksize,
        "order": spec.order,
    }


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("futures_map/thread/chunksize=2", "'futures_map' on thread workers sends no chunks"),
        ("map/chunksize=x", "chunksize must be an integer of at least 1, got 'x'"),
        ("map/order=random", "offers task order given, longest-first, shuffled"),
        ("serial/order=shuffled", "'serial' has no task order to choose"),
        ("map/speed=11", "unknown option 'speed'"),
        ("map/order=given/order=shuffled", "gives order twice"),
    ],
)
def test_bad_dispatch_knobs_are_refused(label, message):
    with pytest.raises(InputError, match=message):
        parse_spec(label)


def _hold(payload: bytes) -> int:
    time.sleep(60)
    return len(payload)


@pytest.mark.processes
@pytest.mark.parametrize("half_read", [False, True])
def test_a_pool_whose_workers_died_with_big_tasks_queued_terminates(half_read):
    """Dead workers leave the task handler writing into a full pipe, and one killed halfway
    through reading a task leaves the rest of it there: stopping must not hang."""
    import threading

    from foldrace.executors.internals import pool_processes, terminate_pool

    pool = multiprocessing.get_context("fork").Pool(2)
    result = pool.map_async(_hold, [bytes(1 << 20)] * 12, chunksize=1)  # 1 MB per task
    processes = pool_processes(pool)
    reader = pool._inqueue._reader
    deadline = time.monotonic() + 30
    while not reader.poll() and time.monotonic() < deadline:  # the workers hold a task each,
        time.sleep(0.01)  # and the handler has begun writing the third into the pipe
    if half_read:
        os.read(reader.fileno(), 10)  # what a worker killed after reading 10 bytes took
    for process in processes:
        os.kill(process.pid, signal.SIGKILL)
    stopper = threading.Thread(target=terminate_pool, args=(pool, processes), daemon=True)
    stopper.start()
    stopper.join(60)  # a generous hang guard
    assert not stopper.is_alive(), "terminating the pool hung"
    assert not pool._task_handler.is_alive()
    assert not result.ready() or not result.successful()


@pytest.mark.processes
def test_stopping_a_pool_whose_idle_worker_died_holding_the_task_lock_does_not_wait(
    monkeypatch,
):
    """Only workers take the task queue's read lock: once they are dead, a held one is
    freed at once (an idle worker holds it while it waits; the lock wait is for the
    result queue's, which this process's own task handler takes too)."""
    import threading

    import foldrace.executors.internals as internals

    monkeypatch.setattr(internals, "LOCK_WAIT_SECONDS", 600.0)  # waited for: a hang
    pool = multiprocessing.get_context("fork").Pool(2)
    processes = internals.pool_processes(pool)
    lock = pool._inqueue._rlock
    deadline = time.monotonic() + 30
    while lock.acquire(timeout=0.0) and time.monotonic() < deadline:  # free: not yet taken
        lock.release()
        time.sleep(0.01)
    for process in processes:  # one of them holds it, waiting for a task
        os.kill(process.pid, signal.SIGKILL)
    stopper = threading.Thread(target=internals.terminate_pool, args=(pool, processes), daemon=True)
    stopper.start()
    stopper.join(60)  # a generous hang guard, far below the 600 s lock wait
    assert not stopper.is_alive(), "stopping the pool waited for a dead worker's lock"


def test_negative_worker_counts_mean_what_n_jobs_means(monkeypatch):
    import foldrace.executors.options as options

    monkeypatch.setattr(options, "usable_cpus", lambda: 4)  # a 4-CPU container
    assert [options.check_workers(n) for n in (-1, -2, -4)] == [4, 3, 1]
    with pytest.raises(InputError, match="workers=-5 leaves no worker on 4 usable CPUs"):
        options.check_workers(-5)
    with pytest.raises(InputError, match="at least 1, or -1 for every usable CPU"):
        options.check_workers(0)


def test_usable_cpus_are_counted_as_joblib_counts_them():
    from joblib import cpu_count

    assert usable_cpus() == cpu_count()  # affinity and cgroup quotas, as n_jobs sees them


FORK_SERVER_CHECK = """
from multiprocessing import forkserver
from foldrace import benchmark_fold, default_workload
from foldrace.executors import parse_spec
from foldrace.testing import os_threads

if __name__ == "__main__":
    workload = default_workload(n_samples=300)
    with parse_spec("map/forkserver").build(2).bind(workload.common_args) as executor:
        executor.run(benchmark_fold, workload.tasks())  # BLAS and OpenMP used
        print(executor.run(os_threads, range(4)))
    print(forkserver._forkserver._preload_modules)
"""


@pytest.mark.processes
@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_the_fork_server_preloads_the_models_and_its_workers_start_no_extra_threads(tmp_path):
    """Forkserver workers start with scikit-learn imported and inherit the server's limit.

    In a fresh interpreter, since a process has one fork server for its whole life.
    """
    script = tmp_path / "check.py"
    script.write_text(FORK_SERVER_CHECK)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )
    threads, preloaded = done.stdout.splitlines()[-2:]
    assert threads == "[1, 1, 1, 1]"  # no OpenBLAS thread server restarted in a worker
    for module in ("foldrace.fold", "sklearn.ensemble._forest", "sklearn.linear_model._logistic"):
        assert f"'{module}'" in preloaded
    assert preloaded.endswith("'foldrace.executors.server_limits']")  # after the libraries


@pytest.mark.parametrize(
    ("platform", "version", "method"),
    [
        ("linux", (3, 11, 7), "fork"),
        ("linux", (3, 14, 0), "forkserver"),
        ("darwin", (3, 11, 7), "spawn"),
        ("win32", (3, 13, 1), "spawn"),
    ],
)
def test_the_default_start_method_is_the_platforms_own(monkeypatch, platform, version, method):
    from foldrace.executors.options import platform_start_method

    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(sys, "version_info", version)
    assert platform_start_method() == method


@pytest.mark.processes
def test_the_default_start_method_agrees_with_cpython_here():
    asked = "import multiprocessing; print(multiprocessing.get_start_method())"
    done = subprocess.run([sys.executable, "-c", asked], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == DEFAULT_START_METHOD


def _labels(specs) -> list[str]:
    return [spec.label for spec in specs]


def test_standard_configurations_are_serial_then_each_strategy_on_each_local_backend():
    labels = _labels(standard_specs())
    assert labels[0] == "serial"
    assert len(labels) == len(set(labels))
    assert "serial" not in _labels(cluster_specs())


@pytest.mark.parametrize(
    ("labels", "options", "expected"),
    [
        (["map", "serial"], {"start_methods": ["spawn", "fork"]}, ["map/spawn", "map", "serial"]),
        (["joblib", "map/thread"], {"start_methods": ["spawn"]}, ["joblib", "map/thread"]),
        (["map", "submit"], {"backends": ["thread"]}, ["map/thread", "submit/thread"]),
        (["map/thread"], {"backends": ["process"]}, ["map/thread"]),
        (
            ["map", "joblib", "map/worker", "cross_validate", "map/thread"],
            {"data_passing": ["shared", "task"]},
            [
                *["map/shared", "map", "joblib/shared", "joblib"],
                *["map/worker", "cross_validate", "map/thread"],
            ],
        ),
        (
            ["map", "futures_map/thread", "apply", "map/chunksize=3"],
            {"chunksizes": [1, 2]},
            [
                *["map/chunksize=1", "map/chunksize=2"],
                *["futures_map/thread", "apply", "map/chunksize=3"],
            ],
        ),
        (
            ["map", "serial", "gridsearch", "apply/order=shuffled"],
            {"orders": ["longest-first"]},
            ["map/order=longest-first", "serial", "gridsearch", "apply/order=shuffled"],
        ),
        (["joblib", "map"], {"pre_dispatches": ["all"]}, ["joblib/pre_dispatch=all", "map"]),
        (
            ["cross_validate", "futures_map"],  # one data passing mode; several
            {"data_passing": ["shared"]},
            ["cross_validate", "futures_map/shared"],
        ),
        (
            ["futures_map", "cross_validate"],  # chunks on processes, not on threads; none
            {"chunksizes": [2]},
            ["futures_map/chunksize=2", "cross_validate"],
        ),
    ],
)
def test_open_axes_take_each_value_where_the_strategy_offers_it(labels, options, expected):
    assert _labels(expand_specs(labels, **options)) == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"data_passing": ["x"]}, "unknown data passing 'x'; known: task, worker, shared"),
        ({"orders": ["random"]}, "unknown order 'random'; known: given, longest-first, shuffled"),
        ({"backends": ["gpu"]}, "unknown backend 'gpu'; known: process, thread, ray, dask"),
        ({"chunksizes": [0]}, "chunksize must be an integer of at least 1, got 0"),
        (
            {"pre_dispatches": ["x"]},
            "pre_dispatch must be 'all', a whole number of at least 1 or a positive multiple "
            "of n_jobs such as '3*n_jobs', got 'x'",
        ),
    ],
)
def test_unknown_axis_values_are_refused_naming_the_known_ones(options, message):
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        expand_specs(["map"], **options)


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("map/speed=1", "unknown option 'speed' in executor 'map/speed=1'; known: chunksize, "
         "order, pre_dispatch"),
        ("map/spawn/fork", "executor 'map/spawn/fork' gives start method twice"),
        ("map/order=a=b", "executor 'map' on process workers offers task order given, "
         "longest-first, shuffled; got 'a=b'"),
    ],
)  # fmt: skip
def test_label_words_are_checked(label, message):
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        parse_spec(label)


def test_an_unknown_label_word_lists_every_axis_value():
    with pytest.raises(InputError, match=r"known: process, thread, ray, dask, fork, spawn, "):
        parse_spec("map/bogus")

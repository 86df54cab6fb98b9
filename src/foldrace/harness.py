"""The race: every executor x every worker count x repeats, timed, scored and checked.

The runs go in rounds, each running every (executor, workers) cell once in a shuffled
order, the serial reference included, so that speedups can be taken round by round. For
each run the harness builds a fresh executor and times its three phases apart::

    executor.bind(workload.common_args)
    with executor:                  <- startup_s   (pool start-up)
        executor.run(benchmark_fold, tasks)
                                    <- run_s       (dispatch + compute)
                                    <- shutdown_s  (close + join)

The first ``warmup`` rounds are thrown away. The serial executor always runs (on one
worker) because it is the reference for speedups and scores.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import random
import signal
import sys
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from multiprocessing.reduction import ForkingPickler
from typing import Any, NamedTuple

from foldrace.clusters import open_cluster
from foldrace.errors import (
    FoldTaskError,
    InputError,
    RaceError,
    RaceInterrupted,
    TaskTimeoutError,
    WorkerDiedError,
)
from foldrace.executors import (
    BLOG_STRATEGIES,
    CLUSTER_BACKENDS,
    DEFAULT_START_METHOD,
    ExecutorSpec,
    RunOptions,
    check_workers,
    executor_labels,
    expand_specs,
    parse_spec,
    usable_cpus,
)
from foldrace.executors.data import SharedData, call_with_worker_data, payload_bytes
from foldrace.executors.options import check_blas_threads, check_count, check_timeout
from foldrace.fold import FoldResult, FoldTask, benchmark_fold
from foldrace.fork_pages import needs_settling, settled
from foldrace.interrupts import StopSignals, stop_received
from foldrace.keys import REFERENCE
from foldrace.machine import describe_machine, machine_state
from foldrace.progress import tqdm
from foldrace.results import RaceResult, Run
from foldrace.schedule import task_order
from foldrace.workload import GRANULARITIES, Workload, default_workload

__all__ = [
    "DEFAULT_TIMEOUT_FACTOR",
    "DEFAULT_TIMEOUT_FLOOR",
    "TimedRun",
    "check_picklable",
    "default_timeout",
    "default_workers",
    "payload_sizes",
    "plan",
    "race",
    "timed_run",
]

DEFAULT_TIMEOUT_FLOOR = 60.0
"""Seconds a parallel run may always take when no timeout is given."""

DEFAULT_TIMEOUT_FACTOR = 10.0
"""Without a timeout, a parallel run may take this many times the slowest serial run."""


_DEFAULT_DEADLINE = (
    f" (the default deadline: {DEFAULT_TIMEOUT_FACTOR:g} x the slowest serial run, at least "
    f"{DEFAULT_TIMEOUT_FLOOR:g} s; a worker may be deadlocked, or a cluster retrying a task "
    "whose workers died: give a timeout to change it)"
)


def default_timeout(serial_seconds: float) -> float:
    """The deadline of a parallel run when the user gives none.

    ``max(DEFAULT_TIMEOUT_FLOOR, DEFAULT_TIMEOUT_FACTOR x serial_seconds)``: far beyond
    what any executor needs for work the serial loop did in ``serial_seconds``, so only a
    deadlock (a worker alive but stuck, which no dead-worker watch can see) or a
    pathological slowdown reaches it, and ends as a timeout error instead of a hang.
    """
    return max(DEFAULT_TIMEOUT_FLOOR, DEFAULT_TIMEOUT_FACTOR * serial_seconds)


def default_workers() -> list[int]:
    """Worker counts 1, 2, ..., up to the CPUs this process may use."""
    return list(range(1, usable_cpus() + 1))


def _values(label: str, value: Any) -> list[Any] | None:
    """One value or an iterable of them (read once) as a list without repeats; None stays."""
    if value is None:
        return None
    single = isinstance(value, str | int) or not isinstance(value, Iterable)
    values = [value] if single else list(dict.fromkeys(value))
    if not values:
        raise InputError(f"{label}: give at least one value")
    return values


def plan(
    executors: Iterable[str] | None = None,
    workers: Iterable[int] | None = None,
    *,
    backends: str | Iterable[str] | None = None,
    start_method: str | Iterable[str] | None = None,
    data_passing: str | Iterable[str] | None = None,
    chunksize: int | Iterable[int] | None = None,
    order: str | Iterable[str] | None = None,
    pre_dispatch: str | Iterable[str] | None = None,
) -> list[tuple[ExecutorSpec, int]]:
    """The (executor configuration, workers) cells of a race, serial first, checked.

    ``executors`` are labels (``"map"``, ``"map/thread"``, ...; ``"all"`` for every
    strategy on every local backend; the blog's five if omitted); ``backends``,
    ``start_method`` and ``data_passing`` give values for the axes the labels leave open
    (see :func:`~foldrace.executors.labels.expand_specs`). Each may be one value or any
    iterable of them (read once).

    Raises
    ------
    InputError
        For an unknown executor or option, or a bad worker count.
    """
    names = executor_labels(BLOG_STRATEGIES if executors is None else executors)
    if not names:
        raise InputError("executors: name at least one")
    specs = expand_specs(
        names,
        backends=_values("backends", backends),
        start_methods=_values("start method", start_method),
        data_passing=_values("data passing", data_passing),
        chunksizes=_values("chunksize", chunksize),
        orders=_values("order", order),
        pre_dispatches=_values("pre_dispatch", pre_dispatch),
    )
    counts = default_workers() if workers is None else list(workers)
    if not counts:
        raise InputError("workers: give at least one worker count")
    counts = sorted({check_workers(w, warn=True) for w in counts})
    reference = parse_spec(REFERENCE)
    cells = [(reference, 1)]
    cells += [(spec, w) for spec in specs if spec.label != REFERENCE for w in counts]
    return cells


def _spec(executor: str | ExecutorSpec, start_method: str | None = None) -> ExecutorSpec:
    if isinstance(executor, ExecutorSpec):
        return executor
    return parse_spec(executor, start_method=start_method)


class TimedRun(NamedTuple):
    """One run of one executor configuration, its three phases timed apart."""

    started: float
    """Wall-clock time (``time.time()``) when dispatch began: the origin of its timeline."""
    startup_s: float
    """Pool start-up, seconds."""
    run_s: float
    """Dispatch + compute, seconds."""
    shutdown_s: float
    """Pool shutdown, seconds."""
    results: list[FoldResult]
    """The task results, in task order."""


def timed_run(
    executor: str | ExecutorSpec,
    workers: int,
    workload: Workload,
    tasks: Sequence[FoldTask],
    timeout: float | None = None,
    start_method: str | None = None,
    blas_threads: int | None = 1,
    address: str | None = None,
) -> TimedRun:
    """Run one executor configuration once, timing its phases apart.

    ``executor`` is a label such as ``"map/thread"`` or an
    :class:`~foldrace.executors.spec.ExecutorSpec`; ``start_method`` applies to labels
    that name none; ``address`` is the cluster of a ``ray`` or ``dask`` pool.

    Returns
    -------
    TimedRun
        When dispatch began, the three phase durations, and the task results.

    Raises
    ------
    RaceError
        If the executor returns results out of task order.
    """
    spec = _spec(executor, start_method)
    options = RunOptions.checked(
        workers, timeout=timeout, blas_threads=blas_threads, address=address
    )
    return _timed(spec, options, workload, tasks)


def _timed(
    spec: ExecutorSpec,
    options: RunOptions,
    workload: Workload,
    tasks: Sequence[FoldTask],
    durations: Sequence[float] | None = None,
) -> TimedRun:
    """:func:`timed_run` for a checked configuration and options.

    The tasks are submitted in the configuration's order (by the reference ``durations``
    for ``longest-first``); the results come back in the workload's task order.
    """
    if spec.order == "longest-first" and durations is None:
        raise InputError("order=longest-first needs the reference run's task durations")
    order = task_order(durations or [0.0] * len(tasks), spec.order)
    submitted = [tasks[i] for i in order]
    executor = spec.build(options).bind(workload.common_args)
    t0 = time.perf_counter()
    with executor:
        started = time.time()
        t1 = time.perf_counter()
        results: list[FoldResult] = executor.run(benchmark_fold, submitted)
        t2 = time.perf_counter()
    t3 = time.perf_counter()
    came = [(r.fold, tuple(r.scores)) for r in results]
    if came != [(t.fold, t.models) for t in submitted]:
        raise RaceError(spec.label, options.workers, f"results came back out of task order: {came}")
    in_task_order: list[FoldResult] = [results[0]] * len(tasks)
    for position, index in enumerate(order):  # back to the workload's order
        in_task_order[index] = results[position]
    return TimedRun(started, t1 - t0, t2 - t1, t3 - t2, in_task_order)


def _settle_if_forked(
    spec: ExecutorSpec, options: RunOptions, workload: Workload, task: FoldTask
) -> bool:
    """Run ``task`` once, untimed, in this process if this run's tasks execute here and
    this process has forked since it last did so (see :mod:`foldrace.fork_pages`).

    Returns whether it ran. A failure of the task raises here as it would in the run.
    """
    backend = spec.backend_class
    runs_here = backend is None or backend.uses_threads
    if not (runs_here and needs_settling()):
        return False
    reference = parse_spec(REFERENCE).build(replace(options, workers=1, address=None))
    with reference.bind(workload.common_args) as executor:
        executor.run(benchmark_fold, [task])
    settled()
    return True


def payload_sizes(spec: ExecutorSpec, workload: Workload, task: FoldTask) -> dict[str, int]:
    """Bytes pickled to run one task, and once per worker at start-up, for ``spec``.

    Threads and serial pickle nothing. ``task`` mode sends the function and every argument
    with each call (``map`` and ``starmap`` once per chunk); ``worker`` sends the shared
    arguments once per worker, and ``shared`` small handles on shared memory, except under
    fork, where workers inherit what their initializer gets without any pickling. For
    joblib's ``shared`` mode the handles stand in for its memory-mapped references. loky's
    workers and clusters get it through cloudpickle, measured with it.
    """
    backend = spec.backend_class
    if backend is None or backend.uses_threads:
        return {"bytes_per_task": 0, "bytes_per_worker": 0}
    common = workload.common_args
    by_value = spec.start_method == "loky" or backend.on_cluster  # cloudpickle
    if spec.data_passing == "task":
        per_task = payload_bytes((benchmark_fold, (*common, task)), by_value)
    else:
        wrapped = partial(call_with_worker_data, benchmark_fold)
        per_task = payload_bytes((wrapped, (task,)), by_value)
    if spec.data_passing == "task" or spec.start_method == "fork":
        per_worker = 0
    elif spec.data_passing == "worker":
        per_worker = payload_bytes(common, by_value)
    else:
        shared = SharedData(common)
        try:
            per_worker = payload_bytes(shared.handles, by_value)
        finally:
            shared.close()
    if spec.executor_class.api == "joblib" and spec.data_passing == "shared":
        per_task, per_worker = per_task + per_worker, 0
    return {"bytes_per_task": per_task, "bytes_per_worker": per_worker}


def check_picklable(
    workload: Workload, tasks: Sequence[FoldTask], start_method: str = DEFAULT_START_METHOD
) -> None:
    """Check that a task can be sent to a worker process, before any pool starts.

    Under ``spawn`` and ``forkserver`` a worker imports what it unpickles, so a class or
    function defined in an interactive session's ``__main__`` (a notebook's, which has no
    file to import) is refused too, with the reason and the ways out. ``fork`` workers
    inherit it, and joblib's loky workers get it by value (cloudpickle), as Dask and Ray do.

    Raises
    ------
    InputError
        Naming what cannot be pickled and what to do about it.
    """
    main = sys.modules.get("__main__")
    if start_method in ("spawn", "forkserver") and not hasattr(main, "__file__"):
        defined = [*(type(m) for m in workload.models.values()), workload.scorer]
        for thing in defined:
            if getattr(thing, "__module__", None) == "__main__":
                raise InputError(
                    f"{getattr(thing, '__qualname__', thing)!r} is defined in an interactive "
                    f"session (a notebook), which {start_method} workers cannot import: they "
                    "are fresh interpreters that import every pickled class from its module, "
                    "and a notebook's __main__ has no file; move it into a .py module and "
                    "import it, use start method 'fork', or an executor that pickles classes "
                    "by value (joblib, gridsearch, or dask and ray executors)"
                )
    if start_method not in multiprocessing.get_all_start_methods():
        return  # loky's workers: cloudpickle carries what stdlib pickle cannot
    try:
        ForkingPickler.dumps((benchmark_fold, workload.common_args, tasks[0]))
    except Exception as exc:
        raise InputError(
            "the workload cannot be sent to worker processes, because it cannot be pickled "
            f"({type(exc).__name__}: {exc}); define estimators, scorers and functions at the "
            "top level of an importable module (not inside a function, not as a lambda), "
            "or race only the serial executor"
        ) from None


def _failure(name: str, workers: int, tasks: Sequence[FoldTask], exc: BaseException) -> RaceError:
    """The :class:`RaceError` that reports ``exc``, naming the fold where it is known."""
    if isinstance(exc, FoldTaskError):
        return RaceError(name, workers, str(exc), fold=exc.fold)
    if isinstance(exc, WorkerDiedError):
        folds = sorted({tasks[i].fold for i in exc.pending})
        where = f"; unfinished fold{'s' * (len(folds) > 1)}: {', '.join(map(str, folds))}"
        return RaceError(
            name,
            workers,
            str(exc) + (where if folds else ""),
            fold=folds[0] if len(folds) == 1 else None,
        )
    if "deserialization of the task graph" in str(exc):
        return RaceError(
            name,
            workers,
            f"{type(exc).__name__}: {exc} (the Dask scheduler unpickles task specifications: "
            "foldrace, and any module holding your estimators, must be importable where "
            "the scheduler runs; install them in the scheduler's environment)",
        )
    return RaceError(name, workers, f"{type(exc).__name__}: {exc}")


def _without_fork(
    cells: list[tuple[ExecutorSpec, int]],
    executors: Iterable[str] | None,
    methods: list[str] | None,
) -> list[tuple[ExecutorSpec, int]]:
    """The cells with fork replaced by forkserver, for a race without a BLAS/OpenMP limit.

    Without the limit, the serial reference run starts BLAS/OpenMP thread pools in this
    process, and a worker forked after that can deadlock (alive, waiting forever on a lock
    that a thread of the parent held) or crash: GNU OpenMP does not survive a fork. Fork
    that the user chose by name is refused; fork taken by default becomes forkserver, with
    a warning.

    Raises
    ------
    InputError
        If fork was asked for by name.
    """
    forked = [spec for spec, _ in cells if spec.uses_processes and spec.start_method == "fork"]
    if not forked:
        return cells
    labels = [str(text).split("/")[1:] for text in executors or ()]
    if "fork" in (methods or ()) or any("fork" in words for words in labels):
        raise InputError(
            "start method fork cannot be used without a BLAS/OpenMP thread limit "
            "(blas_threads=None, --no-blas-limit): the serial run starts those thread pools "
            "in this process first, and a worker forked after that can deadlock or crash; "
            "use forkserver or spawn, or keep the limit"
        )
    if "forkserver" not in multiprocessing.get_all_start_methods():
        raise InputError("without a BLAS/OpenMP thread limit, choose the start method spawn")
    warnings.warn(
        "without a BLAS/OpenMP thread limit, workers are started with forkserver instead of "
        "fork: a worker forked after the serial run's OpenMP threads can deadlock",
        RuntimeWarning,
        stacklevel=3,
    )
    safe = {spec.label: replace(spec, start_method="forkserver") for spec in forked}
    moved = [(safe.get(spec.label, spec), w) for spec, w in cells]
    return list(dict.fromkeys(moved))


def _granularities(granularity: str | Iterable[str]) -> list[str]:
    chosen = [granularity] if isinstance(granularity, str) else list(dict.fromkeys(granularity))
    for value in chosen:
        if value not in GRANULARITIES:
            raise InputError(f"unknown granularity {value!r}; known: {', '.join(GRANULARITIES)}")
    if not chosen:
        raise InputError("granularity: give at least one of " + ", ".join(GRANULARITIES))
    return chosen


def race(
    workload: Workload | None = None,
    executors: Iterable[str] | None = None,
    workers: Iterable[int] | None = None,
    repeats: int = 3,
    *,
    granularity: str | Iterable[str] | None = None,
    warmup: int = 1,
    timeout: float | None = None,
    start_method: str | Iterable[str] | None = None,
    backends: str | Iterable[str] | None = None,
    data_passing: str | Iterable[str] | None = None,
    chunksize: int | Iterable[int] | None = None,
    order: str | Iterable[str] | None = None,
    pre_dispatch: str | Iterable[str] | None = None,
    blas_threads: int | None = 1,
    dask_scheduler: str | None = None,
    ray_address: str | None = None,
    order_seed: int | None = None,
    progress: bool | None = False,
) -> RaceResult:
    """Time every executor at every worker count and check that all agree on the scores.

    The runs go in rounds: each round runs every (executor, workers) cell once, the serial
    reference included, in an order shuffled anew for every round; each speedup is taken
    round by round, the serial run against the cell's run of the same round, so a change
    in the machine's load between rounds cannot pass for a speedup. The first round starts
    with the serial run, whose time sets the default deadline of the others.

    Parameters
    ----------
    workload : Workload, optional
        What to cross-validate; :func:`~foldrace.workload.default_workload` if omitted.
    executors : iterable of str, optional
        Executor labels: a registry name (``"map"``) optionally followed by options
        (``"map/thread"``, ``"starmap/spawn/shared"``), or ``"all"``: every strategy on
        every local backend, as ``foldrace run --executors all``; the blog's five
        strategies if omitted. ``serial`` is always added.
    workers : iterable of int, optional
        Worker counts; 1 up to the usable CPUs if omitted.
    repeats : int
        Timed rounds: runs per (executor, workers) cell.
    granularity : {"fold", "fold-model"} or a list of both, optional
        One task per fold (the blog's choice), or one per fold and model; with both, every
        cell runs at each granularity and the results sit side by side. Default: ``"fold"``,
        or ``"fold-model"`` for a search's workload (one task per candidate and fold, as
        scikit-learn's searches run them).
    warmup : int
        Untimed rounds before the timed ones.
    timeout : float, optional
        Seconds one run of an executor may take; past it the race fails with a timeout.
        Worker deaths and task errors are detected without it.
    start_method : str or list of str, optional
        How process executors whose label names no start method start their workers
        (``"fork"``, ``"spawn"``, ``"forkserver"``); ``DEFAULT_START_METHOD`` ("fork"
        where the platform has it) if omitted, set explicitly either way. Several values
        race each one.
    backends : str or list of str, optional
        Kinds of worker (``"process"``, ``"thread"``, ``"ray"``, ``"dask"``), for labels that
        name none; each executor's default (processes) if omitted.
    data_passing : str or list of str, optional
        ``"task"``, ``"worker"`` and/or ``"shared"``: how process workers get the data, for
        labels that name none; ``"task"`` (pickled with every task) if omitted.
    chunksize : int or list of int, optional
        Tasks per chunk, for labels that name none, where the strategy sends chunks
        (``map``, ``starmap``, ``imap_unordered``, ``futures_map`` on processes, and
        ``joblib`` as its ``batch_size``); each strategy's own default if omitted. Several
        values race each.
    order : {"given", "longest-first", "shuffled"} or a list of them, optional
        The order tasks are submitted in, for labels that name none: as the workload gives
        them (the default), the longest first by the reference run's task times, or
        shuffled (:data:`foldrace.schedule.ORDER_SEED`). The prediction follows it.
    pre_dispatch : str or list of str, optional
        joblib's batches queued ahead (``"all"``, a number, or ``"K*n_jobs"``), for labels
        that name none; joblib's ``"2*n_jobs"`` if omitted. Several values race each.
    blas_threads : int or None
        Inner BLAS/OpenMP threads per worker, and in the serial run (threadpoolctl): 1 by
        default, so parallel workers do not oversubscribe the cores; None for no limit (Dask
        and Ray workers then keep their engine's setting: a Dask nanny starts its worker
        with one thread). Dask tasks set the limit while they run: foldrace does not start
        those workers.
    dask_scheduler, ray_address : str, optional
        Clusters for the ``dask`` and ``ray`` backends (``"tcp://HOST:PORT"``,
        ``"HOST:PORT"``), joined and left running. Without them, foldrace starts a local
        cluster on 127.0.0.1 for the race and stops it afterwards; its start-up is recorded
        in ``meta["clusters"]``, apart from the runs.
    order_seed : int, optional
        Seed of the order of the runs within each round; a random one if omitted. Recorded
        in ``meta["order_seed"]``, with each round's order and the machine's load average
        and CPU clock before and after it in ``meta["rounds"]``.
    progress : bool or None
        Show a progress bar on standard error; None: only where it is a terminal. In a
        notebook, True draws a widget where ipywidgets is installed, text otherwise.

    Returns
    -------
    RaceResult
        Timings, task records and scores; call ``.summary()`` and ``.check()`` on it.

    Raises
    ------
    InputError
        For bad arguments, before any work starts.
    RaceError
        If an executor fails; it names the executor, worker count and, where known, the fold,
        and chains the original error (a task's error, a worker's death, a timeout).
    RaceInterrupted
        On Ctrl-C: its ``result`` holds the runs measured so far, marked incomplete. The
        running pool is terminated first.
    """
    workload = default_workload() if workload is None else workload
    # every iterable is read once, here (generators included)
    executors = None if executors is None else list(executors)
    methods = _values("start method", start_method)
    cells = plan(
        executors,
        workers,
        backends=_values("backends", backends),
        start_method=methods,
        data_passing=_values("data passing", data_passing),
        chunksize=_values("chunksize", chunksize),
        order=_values("order", order),
        pre_dispatch=_values("pre_dispatch", pre_dispatch),
    )
    if granularity is None:
        granularity = "fold" if workload.candidates is None else "fold-model"
    granularities = _granularities(granularity)
    repeats = check_count("repeats", repeats, 1)
    warmup = check_count("warmup", warmup, 0)
    timeout = check_timeout(timeout)
    blas_threads = check_blas_threads(blas_threads)
    if blas_threads is None:
        cells = _without_fork(cells, executors, methods)
    specs = list({spec.label: spec for spec, _ in cells}.values())
    tasks = {g: workload.tasks(g) for g in granularities}
    for method in dict.fromkeys(s.start_method for s in specs if s.uses_processes):
        check_picklable(workload, tasks[granularities[0]], method or DEFAULT_START_METHOD)
    runs: list[Run] = []
    n_samples, n_features = workload.shape
    names = [spec.label for spec in specs]
    meta: dict[str, Any] = {
        "workload": {
            "name": workload.name,
            "description": workload.description,
            "n_samples": n_samples,
            "n_features": n_features,
            "n_folds": len(workload.folds),
            "n_tasks": {g: len(t) for g, t in tasks.items()},
            "models": list(workload.model_names),
            **(
                {"candidates": {n: dict(p) for n, p in workload.candidates.items()}}
                if workload.candidates is not None
                else {}
            ),
        },
        "executors": names,
        "schedules": {spec.label: spec.executor_class.schedule for spec in specs},
        "configs": {spec.label: spec.describe() for spec in specs},
        "payload": {
            spec.label: payload_sizes(spec, workload, tasks[granularities[0]][0]) for spec in specs
        },
        "workers": sorted({w for _, w in cells}),
        "granularities": granularities,
        "repeats": repeats,
        "warmup": warmup,
        "timeout": timeout,
        "start_method": methods[0] if methods else DEFAULT_START_METHOD,
        "blas_threads": blas_threads,
        "machine": describe_machine(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "complete": True,
    }
    total = len(granularities) * len(cells) * (warmup + repeats)
    kinds = list(dict.fromkeys(s.backend for s in specs if s.backend in CLUSTER_BACKENDS))
    joined = {"dask": dask_scheduler, "ray": ray_address}
    addresses: dict[str, str] = {}
    meta["clusters"] = {}
    meta["default_timeout"] = {}
    meta["order_seed"] = order_seed = (
        random.SystemRandom().randrange(2**32)
        if order_seed is None
        else check_count("order_seed", order_seed, 0)
    )
    meta["rounds"] = []
    meta["settling_runs"] = 0
    shuffler = random.Random(order_seed)
    reference_durations: dict[str, list[float]] = {}  # the first serial run's, per granularity
    try:
        with (
            StopSignals((signal.SIGINT,)),
            contextlib.ExitStack() as stack,
            tqdm(
                total=total,
                desc="race",
                unit="run",
                disable=None if progress is None else not progress,
            ) as bar,
        ):
            for kind in kinds:
                bar.set_postfix_str(f"starting the {kind} cluster")
                cluster = stack.enter_context(
                    open_cluster(kind, max(w for _, w in cells), joined[kind])
                )
                addresses[kind] = cluster.address
                meta["clusters"][kind] = cluster.describe()
            for g in granularities:
                serial_seconds = 0.0  # the slowest serial run, warm-up included
                for number in range(-warmup, repeats):
                    sequence = list(cells)
                    if number == -warmup:  # the serial run first: it sets the deadline
                        sequence[1:] = shuffler.sample(sequence[1:], len(sequence) - 1)
                    else:
                        shuffler.shuffle(sequence)
                    record = {"granularity": g, "round": number, "before": machine_state()}
                    meta["rounds"].append(record)
                    record["order"] = [f"{spec.label}@{w}" for spec, w in sequence]
                    for spec, w in sequence:
                        name = spec.label
                        limit = timeout
                        if limit is None and name != REFERENCE:
                            limit = meta["default_timeout"][g] = default_timeout(serial_seconds)
                        bar.set_postfix_str(f"{name}, {w} worker{'s' * (w > 1)}, per {g}")
                        try:
                            address = addresses.get(spec.backend or "")
                            options = RunOptions(w, limit, blas_threads, address)
                            known = reference_durations.get(g)
                            if _settle_if_forked(spec, options, workload, tasks[g][0]):
                                meta["settling_runs"] += 1
                            timed = _timed(spec, options, workload, tasks[g], known)
                        except (RaceError, KeyboardInterrupt):
                            raise
                        except Exception as exc:
                            if stop_received() is not None:  # workers stopped by the signal
                                raise KeyboardInterrupt from None
                            error = _failure(name, w, tasks[g], exc)
                            if timeout is None and isinstance(exc, TaskTimeoutError):
                                error = RaceError(name, w, error.reason + _DEFAULT_DEADLINE)
                            raise error from exc
                        if name == REFERENCE:
                            serial_seconds = max(serial_seconds, timed.run_s)
                            reference_durations.setdefault(g, [r.duration for r in timed.results])
                        if number >= 0:
                            runs.append(Run(g, name, w, number, *timed))
                        bar.update()
                    record["after"] = machine_state()
    except KeyboardInterrupt:
        so_far = RaceResult.from_runs(runs, meta | {"complete": False})
        raise RaceInterrupted(so_far) from None
    result = RaceResult.from_runs(runs, meta)
    _warn_if_disturbed(result)
    return result


def _warn_if_disturbed(result: RaceResult) -> None:
    """One warning line when some cells' timings cannot be trusted."""
    summary = result.summary()
    disturbed = summary[summary["disturbed"]]
    if disturbed.empty:
        return
    shown = ", ".join(f"{row.executor}@{row.workers}" for row in disturbed.itertuples())
    warnings.warn(
        f"{len(disturbed)} of {len(summary) - 1} cells look disturbed ({shown}): a speedup "
        "above what the workers or the bound allow, or repeats far apart, so something else "
        "was using the CPUs; close other programs, or race again with more repeats",
        RuntimeWarning,
        stacklevel=3,
    )

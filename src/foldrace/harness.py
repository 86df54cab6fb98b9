"""The race: every executor x every worker count x repeats, timed, scored and checked.

For each cell the harness builds a fresh executor and times its three phases apart::

    with executor:                  <- startup_s   (pool start-up)
        executor.run(benchmark_fold, workload.common_args, tasks)
                                    <- run_s       (dispatch + compute)
                                    <- shutdown_s  (close + join)

The first ``warmup`` runs of each cell are thrown away. The serial executor always runs
(once, on one worker) because it is the reference for speedups and scores.
"""

from __future__ import annotations

import numbers
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from multiprocessing.reduction import ForkingPickler
from typing import Any

from tqdm.auto import tqdm

from foldrace.errors import (
    FoldTaskError,
    InputError,
    RaceError,
    RaceInterrupted,
    WorkerDiedError,
)
from foldrace.executors import check_workers, executor_names, get_executor, usable_cpus
from foldrace.executors.base import (
    DEFAULT_START_METHOD,
    check_blas_threads,
    check_start_method,
    check_timeout,
)
from foldrace.fold import FoldResult, FoldTask, benchmark_fold
from foldrace.machine import describe_machine
from foldrace.results import REFERENCE, RaceResult, Run
from foldrace.workload import GRANULARITIES, Workload, default_workload

__all__ = ["check_picklable", "default_workers", "plan", "race", "timed_run"]


def default_workers() -> list[int]:
    """Worker counts 1, 2, ..., up to the CPUs this process may use."""
    return list(range(1, usable_cpus() + 1))


def _check_count(label: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InputError(f"{label} must be an integer of at least {minimum}, got {value!r}")
    return int(value)


def plan(
    executors: Iterable[str] | None = None, workers: Iterable[int] | None = None
) -> list[tuple[str, int]]:
    """The (executor, workers) cells of a race, serial first, checked.

    Raises
    ------
    InputError
        For an unknown executor name or a bad worker count.
    """
    names = list(executor_names() if executors is None else executors)
    if not names:
        raise InputError("executors: name at least one")
    for name in names:
        get_executor(name)
    counts = default_workers() if workers is None else list(workers)
    if not counts:
        raise InputError("workers: give at least one worker count")
    counts = sorted({check_workers(w, warn=True) for w in counts})
    cells = [(REFERENCE, 1)]
    cells += [(name, w) for name in dict.fromkeys(names) if name != REFERENCE for w in counts]
    return cells


def timed_run(
    name: str,
    workers: int,
    workload: Workload,
    tasks: Sequence[FoldTask],
    timeout: float | None = None,
    start_method: str | None = None,
    blas_threads: int | None = 1,
) -> tuple:
    """Run one executor once, timing its phases apart.

    Returns
    -------
    tuple
        ``(started, startup_s, run_s, shutdown_s, results)``: the wall-clock time dispatch
        began, the three phase durations in seconds, and the task results in task order.

    Raises
    ------
    RaceError
        If the executor returns results out of task order.
    """
    cls = get_executor(name)
    options: dict[str, Any] = {"timeout": timeout, "blas_threads": blas_threads}
    if cls.uses_processes:
        options["start_method"] = start_method
    executor = cls(workers, **options)
    t0 = time.perf_counter()
    with executor:
        started = time.time()
        t1 = time.perf_counter()
        results: list[FoldResult] = executor.run(benchmark_fold, workload.common_args, tasks)
        t2 = time.perf_counter()
    t3 = time.perf_counter()
    order = [(r.fold, tuple(r.scores)) for r in results]
    if order != [(t.fold, t.models) for t in tasks]:
        raise RaceError(name, workers, f"results came back out of task order: {order}")
    return started, t1 - t0, t2 - t1, t3 - t2, results


def check_picklable(
    workload: Workload, tasks: Sequence[FoldTask], start_method: str = DEFAULT_START_METHOD
) -> None:
    """Check that a task can be sent to a worker process, before any pool starts.

    Under ``spawn`` and ``forkserver`` a worker imports what it unpickles, so a class or
    function defined in an interactive session's ``__main__`` (which has no file to import)
    is refused too.

    Raises
    ------
    InputError
        Naming what cannot be pickled and what to do about it.
    """
    main = sys.modules.get("__main__")
    if start_method != "fork" and not hasattr(main, "__file__"):
        defined = [*(type(m) for m in workload.models.values()), workload.scorer]
        for thing in defined:
            if getattr(thing, "__module__", None) == "__main__":
                raise InputError(
                    f"{getattr(thing, '__qualname__', thing)!r} is defined in an interactive "
                    f"session, which {start_method} workers cannot import; move it into a "
                    "module file, or use start method 'fork'"
                )
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
    return RaceError(name, workers, f"{type(exc).__name__}: {exc}")


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
    granularity: str | Iterable[str] = "fold",
    warmup: int = 1,
    timeout: float | None = None,
    start_method: str | None = None,
    blas_threads: int | None = 1,
    progress: bool = False,
) -> RaceResult:
    """Time every executor at every worker count and check that all agree on the scores.

    Parameters
    ----------
    workload : Workload, optional
        What to cross-validate; :func:`~foldrace.workload.default_workload` if omitted.
    executors : iterable of str, optional
        Registry names; all of them if omitted. ``serial`` is always added.
    workers : iterable of int, optional
        Worker counts; 1 up to the usable CPUs if omitted.
    repeats : int
        Timed runs per (executor, workers) cell.
    granularity : {"fold", "fold-model"} or a list of both
        One task per fold (the blog's choice), or one per fold and model; with both, every
        cell runs at each granularity and the results sit side by side.
    warmup : int
        Untimed runs per cell before the timed ones.
    timeout : float, optional
        Seconds one run of an executor may take; past it the race fails with a timeout.
        Worker deaths and task errors are detected without it.
    start_method : {"fork", "spawn", "forkserver"}, optional
        How process executors start their workers; ``DEFAULT_START_METHOD`` ("fork" where
        the platform has it) if omitted, set explicitly either way.
    blas_threads : int or None
        Inner BLAS/OpenMP threads per worker, and in the serial run (threadpoolctl): 1 by
        default, so parallel workers do not oversubscribe the cores; None for no limit.
    progress : bool
        Show a progress bar on standard error.

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
    cells = plan(executors, workers)
    granularities = _granularities(granularity)
    repeats = _check_count("repeats", repeats, 1)
    warmup = _check_count("warmup", warmup, 0)
    timeout = check_timeout(timeout)
    start_method = check_start_method(start_method)
    blas_threads = check_blas_threads(blas_threads)
    tasks = {g: workload.tasks(g) for g in granularities}
    if any(get_executor(name).parallel for name, _ in cells):
        check_picklable(workload, tasks[granularities[0]], start_method)
    runs: list[Run] = []
    n_samples, n_features = workload.shape
    names = list(dict.fromkeys(name for name, _ in cells))
    meta: dict[str, Any] = {
        "workload": {
            "name": workload.name,
            "description": workload.description,
            "n_samples": n_samples,
            "n_features": n_features,
            "n_folds": len(workload.folds),
            "n_tasks": {g: len(t) for g, t in tasks.items()},
            "models": list(workload.model_names),
        },
        "executors": names,
        "schedules": {name: get_executor(name).schedule for name in names},
        "workers": sorted({w for _, w in cells}),
        "granularities": granularities,
        "repeats": repeats,
        "warmup": warmup,
        "timeout": timeout,
        "start_method": start_method,
        "blas_threads": blas_threads,
        "machine": describe_machine(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "complete": True,
    }
    total = len(granularities) * len(cells) * (warmup + repeats)
    try:
        with tqdm(total=total, desc="race", unit="run", disable=not progress) as bar:
            for g in granularities:
                for name, w in cells:
                    bar.set_postfix_str(f"{name}, {w} worker{'s' * (w > 1)}, per {g}")
                    for repeat in range(-warmup, repeats):
                        try:
                            *phases, results = timed_run(
                                name, w, workload, tasks[g], timeout, start_method, blas_threads
                            )
                        except (RaceError, KeyboardInterrupt):
                            raise
                        except Exception as exc:
                            raise _failure(name, w, tasks[g], exc) from exc
                        if repeat >= 0:
                            runs.append(Run(g, name, w, repeat, *phases, results))
                        bar.update()
    except KeyboardInterrupt:
        partial = RaceResult.from_runs(runs, meta | {"complete": False})
        raise RaceInterrupted(partial) from None
    return RaceResult.from_runs(runs, meta)

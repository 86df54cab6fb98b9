"""foldrace: race cross-validation folds through interchangeable parallel executors.

One fold-benchmark function (:func:`benchmark_fold`) runs through every executor in the
registry (:data:`EXECUTORS`), on processes or threads, with a chosen start method and way
of passing the data (:class:`ExecutorSpec`, :func:`parse_spec`); :func:`race` times them
against worker counts, checks that all of them produce bitwise-identical averaged scores,
and :func:`plot_speedup` draws the speedup curves against the ideal and the granularity
bound.
"""

from __future__ import annotations

from typing import Any

from foldrace.bounds import best_makespan, granularity_bound, ideal_speedup
from foldrace.errors import (
    FoldraceError,
    FoldTaskError,
    InputError,
    RaceError,
    RaceInterrupted,
    TaskTimeoutError,
    WorkerDiedError,
)
from foldrace.executors import (
    EXECUTORS,
    Executor,
    ExecutorSpec,
    executor_names,
    get_executor,
    parse_spec,
    standard_specs,
)
from foldrace.fold import FoldResult, FoldTask, benchmark_fold, mean_scores
from foldrace.harness import race
from foldrace.results import RaceResult, ScoreCheck
from foldrace.version import __version__
from foldrace.workload import ROC_AUC, Workload, default_models, default_workload

__all__ = [
    "EXECUTORS",
    "ROC_AUC",
    "Executor",
    "ExecutorSpec",
    "FoldResult",
    "FoldTask",
    "FoldTaskError",
    "FoldraceError",
    "InputError",
    "RaceError",
    "RaceInterrupted",
    "RaceResult",
    "ScoreCheck",
    "TaskTimeoutError",
    "WorkerDiedError",
    "Workload",
    "__version__",
    "benchmark_fold",
    "best_makespan",
    "default_models",
    "default_workload",
    "executor_names",
    "get_executor",
    "granularity_bound",
    "ideal_speedup",
    "mean_scores",
    "parse_spec",
    "plot_speedup",
    "race",
    "standard_specs",
]


def __getattr__(name: str) -> Any:
    """Import the plotting module (and matplotlib) only when it is first used."""
    if name == "plot_speedup":
        from foldrace.plots import plot_speedup

        return plot_speedup
    raise AttributeError(f"module 'foldrace' has no attribute {name!r}")

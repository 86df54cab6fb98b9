"""Executors: strategies (how tasks are handed out) on backends (which workers run them).

Where to look:

- :mod:`.strategies`: one module per strategy, its one library call in ``dispatch``;
- :mod:`.backends`: one module per kind of worker (process, thread, ray, dask);
- :mod:`.base`: the :class:`Executor` every strategy is, and its lifetime;
- :mod:`.spec`, :mod:`.labels`, :mod:`.options`: configurations, their labels
  (``"map/thread"``), and the options of a run, each checked once;
- :mod:`.registry`: the lists the CLI, tests, benchmarks and docs read;
- :mod:`.data`, :mod:`.inner_threads`, :mod:`.internals`: data passing, BLAS/OpenMP
  thread limits, and every use of another library's private attributes.
"""

from __future__ import annotations

from foldrace.executors.backends import BACKENDS, CLUSTER_BACKENDS, LOCAL_BACKENDS
from foldrace.executors.backends.thread import threads_left_behind
from foldrace.executors.base import Executor
from foldrace.executors.labels import (
    cluster_specs,
    executor_labels,
    expand_specs,
    parse_spec,
    standard_specs,
)
from foldrace.executors.options import (
    DATA_MODES,
    DEFAULT_START_METHOD,
    RunOptions,
    check_start_method,
    check_timeout,
    check_workers,
    max_workers,
    usable_cpus,
)
from foldrace.executors.registry import (
    BLOG_STRATEGIES,
    EXECUTORS,
    backend_table,
    executor_names,
    executor_table,
    get_executor,
)
from foldrace.executors.spec import ExecutorSpec

__all__ = [
    "BACKENDS",
    "BLOG_STRATEGIES",
    "CLUSTER_BACKENDS",
    "DATA_MODES",
    "DEFAULT_START_METHOD",
    "EXECUTORS",
    "LOCAL_BACKENDS",
    "Executor",
    "ExecutorSpec",
    "RunOptions",
    "backend_table",
    "check_start_method",
    "check_timeout",
    "check_workers",
    "cluster_specs",
    "executor_labels",
    "executor_names",
    "executor_table",
    "expand_specs",
    "get_executor",
    "max_workers",
    "parse_spec",
    "standard_specs",
    "threads_left_behind",
    "usable_cpus",
]

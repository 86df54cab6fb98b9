"""The executor registry: the single list of strategies that the CLI, tests, benchmarks and
docs read.

Add an executor by writing an :class:`~foldrace.executors.base.Executor` subclass and
listing it in ``_CLASSES``; everything else picks it up from :data:`EXECUTORS`. Each class
is one strategy; the pool kind, start method and data passing are options of it, combined
in an :class:`~foldrace.executors.spec.ExecutorSpec` (see :func:`standard_specs`).
"""

from __future__ import annotations

import multiprocessing
from types import MappingProxyType

import pandas as pd

from foldrace.errors import InputError
from foldrace.executors.base import (
    CLUSTER_POOLS,
    DATA_MODES,
    DEFAULT_START_METHOD,
    POOLS,
    Executor,
    check_start_method,
    check_timeout,
    check_workers,
    max_workers,
    usable_cpus,
)
from foldrace.executors.dask_client import DaskMapExecutor, DaskSubmitExecutor
from foldrace.executors.futures import FuturesMapExecutor, SubmitExecutor
from foldrace.executors.joblib_parallel import JoblibExecutor
from foldrace.executors.pool import (
    ApplyAsyncExecutor,
    ApplyExecutor,
    ImapUnorderedExecutor,
    MapExecutor,
    PoolExecutor,
    StarmapExecutor,
)
from foldrace.executors.serial import SerialExecutor
from foldrace.executors.spec import (
    ExecutorSpec,
    cluster_specs,
    expand_specs,
    parse_spec,
    standard_specs,
)

__all__ = [
    "BLOG_STRATEGIES",
    "CLUSTER_POOLS",
    "DATA_MODES",
    "DEFAULT_START_METHOD",
    "EXECUTORS",
    "POOLS",
    "Executor",
    "ExecutorSpec",
    "PoolExecutor",
    "check_start_method",
    "check_timeout",
    "check_workers",
    "cluster_specs",
    "executor_names",
    "executor_table",
    "expand_specs",
    "get_executor",
    "max_workers",
    "parse_spec",
    "standard_specs",
    "usable_cpus",
]

_CLASSES: tuple[type[Executor], ...] = (
    SerialExecutor,
    ApplyExecutor,
    ApplyAsyncExecutor,
    MapExecutor,
    StarmapExecutor,
    ImapUnorderedExecutor,
    SubmitExecutor,
    FuturesMapExecutor,
    JoblibExecutor,
    DaskSubmitExecutor,
    DaskMapExecutor,
)

EXECUTORS = MappingProxyType({cls.name: cls for cls in _CLASSES})
"""Executor classes (strategies) by registry name, in teaching order (serial first)."""

BLOG_STRATEGIES = ("serial", "apply", "apply_async", "map", "starmap")
"""The blog's strategies: what ``race`` and ``foldrace run`` race unless told otherwise."""


def executor_names() -> tuple[str, ...]:
    """Registry names, serial first."""
    return tuple(EXECUTORS)


def executor_table() -> pd.DataFrame:
    """The registry as a table: one row per strategy, with the options it offers.

    Columns: executor, family, pools, start methods, data passing, schedule, summary.
    The CLI's ``foldrace executors`` and the docs print it.
    """
    rows = []
    for name, cls in EXECUTORS.items():
        processes = "process" in cls.pools
        methods = cls.start_methods or multiprocessing.get_all_start_methods()
        moving = [m for m in cls.data_modes if any(m in cls.data_modes_for(p) for p in cls.pools)]
        rows.append(
            {
                "executor": name,
                "family": cls.family,
                "pools": ", ".join(cls.pools) or "-",
                "start methods": ", ".join(methods) if processes else "-",
                "data passing": ", ".join(moving) or "-",
                "schedule": cls.schedule,
                "summary": cls.summary,
            }
        )
    return pd.DataFrame(rows)


def get_executor(name: str) -> type[Executor]:
    """Look up an executor class by name.

    Raises
    ------
    InputError
        If no executor has that name; the message lists the known ones.
    """
    try:
        return EXECUTORS[name]
    except (KeyError, TypeError):
        known = ", ".join(EXECUTORS)
        raise InputError(f"unknown executor {name!r}; known executors: {known}") from None

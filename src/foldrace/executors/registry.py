"""The registry: the single list of strategies and backends that the CLI, tests,
benchmarks and docs read.

Add a strategy by writing an :class:`~foldrace.executors.base.Executor` subclass (a module
in :mod:`foldrace.executors.strategies`) and listing it in ``_STRATEGIES``; add a kind of
worker by writing a backend (:mod:`foldrace.executors.backends`) and listing it in
:data:`~foldrace.executors.backends.BACKENDS`. Every strategy runs on every backend that
offers its API; everything else picks them up from here.
"""

from __future__ import annotations

from types import MappingProxyType

import pandas as pd

from foldrace.errors import InputError
from foldrace.executors.backends import BACKENDS
from foldrace.executors.base import Executor
from foldrace.executors.strategies import (
    ApplyAsyncExecutor,
    ApplyExecutor,
    CrossValidateExecutor,
    DaskMapExecutor,
    DaskSubmitExecutor,
    FuturesMapExecutor,
    GridSearchExecutor,
    ImapUnorderedExecutor,
    JoblibExecutor,
    MapExecutor,
    SerialExecutor,
    StarmapExecutor,
    SubmitExecutor,
)

__all__ = [
    "BLOG_STRATEGIES",
    "EXECUTORS",
    "backend_table",
    "executor_names",
    "executor_table",
    "get_executor",
]

_STRATEGIES: tuple[type[Executor], ...] = (
    SerialExecutor,
    ApplyExecutor,
    ApplyAsyncExecutor,
    MapExecutor,
    StarmapExecutor,
    ImapUnorderedExecutor,
    SubmitExecutor,
    FuturesMapExecutor,
    JoblibExecutor,
    CrossValidateExecutor,
    GridSearchExecutor,
    DaskSubmitExecutor,
    DaskMapExecutor,
)

EXECUTORS = MappingProxyType({cls.name: cls for cls in _STRATEGIES})
"""Executor classes (strategies) by registry name, in teaching order (serial first)."""

BLOG_STRATEGIES = ("serial", "apply", "apply_async", "map", "starmap")
"""The blog's strategies: what ``race`` and ``foldrace run`` race unless told otherwise."""


def executor_names() -> tuple[str, ...]:
    """Registry names, serial first."""
    return tuple(EXECUTORS)


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


def executor_table() -> pd.DataFrame:
    """The strategies as a table: one row each, with the options they offer.

    Columns: executor, family, backends, start methods, data passing, schedule, summary.
    The CLI's ``foldrace executors`` and the docs print it.
    """
    rows = []
    for name, cls in EXECUTORS.items():
        kinds = cls.backend_kinds()
        backends = [BACKENDS[kind] for kind in kinds]
        methods = [
            m for b in backends if b.uses_processes for m in (cls.start_methods or b.start_methods)
        ]
        modes = [m for m in cls.data_modes if any(m in b.data_modes for b in backends)]
        rows.append(
            {
                "executor": name,
                "family": cls.family,
                "backends": ", ".join(kinds) or "-",
                "start methods": ", ".join(dict.fromkeys(methods)) or "-",
                "data passing": ", ".join(modes) or "-",
                "schedule": cls.schedule,
                "summary": cls.summary,
            }
        )
    return pd.DataFrame(rows)


def backend_table() -> pd.DataFrame:
    """The backends as a table: one row each, with the capabilities they declare."""
    rows = []
    for kind, cls in BACKENDS.items():
        rows.append(
            {
                "backend": kind,
                "APIs": ", ".join(sorted(cls.apis)),
                "strategies": ", ".join(n for n, s in EXECUTORS.items() if s.api in cls.apis),
                "start methods": ", ".join(cls.start_methods) or "-",
                "data passing": ", ".join(cls.data_modes) or "-",
                "threads": "yes" if cls.uses_threads else "no",
                "dead worker noticed": "yes" if cls.watches_workers else "no",
                "extra": cls.kind if cls.library else "-",
            }
        )
    return pd.DataFrame(rows)

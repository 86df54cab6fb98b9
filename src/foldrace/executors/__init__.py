"""The executor registry: the single list of strategies that the CLI, tests, benchmarks and
docs read.

Add an executor by writing an :class:`~foldrace.executors.base.Executor` subclass and
listing it in ``_CLASSES``; everything else picks it up from :data:`EXECUTORS`.
"""

from __future__ import annotations

from types import MappingProxyType

from foldrace.errors import InputError
from foldrace.executors.base import (
    DEFAULT_START_METHOD,
    Executor,
    check_start_method,
    check_timeout,
    check_workers,
    max_workers,
    usable_cpus,
)
from foldrace.executors.pool import (
    ApplyAsyncExecutor,
    ApplyExecutor,
    MapExecutor,
    PoolExecutor,
    StarmapExecutor,
)
from foldrace.executors.serial import SerialExecutor

__all__ = [
    "DEFAULT_START_METHOD",
    "EXECUTORS",
    "Executor",
    "PoolExecutor",
    "check_start_method",
    "check_timeout",
    "check_workers",
    "executor_names",
    "get_executor",
    "max_workers",
    "usable_cpus",
]

_CLASSES: tuple[type[Executor], ...] = (
    SerialExecutor,
    ApplyExecutor,
    ApplyAsyncExecutor,
    MapExecutor,
    StarmapExecutor,
)

EXECUTORS = MappingProxyType({cls.name: cls for cls in _CLASSES})
"""Executor classes by registry name, in teaching order (serial first)."""


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

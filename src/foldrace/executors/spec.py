"""One executor configuration: strategy x pool kind x start method x data passing.

The registry lists strategies (one class each); a :class:`ExecutorSpec` picks the other
axes. Its :attr:`~ExecutorSpec.label` names it everywhere (results, tables, plots, the
CLI): the strategy, then every axis that differs from the default, joined by ``/``::

    map                 Pool.map on fork processes, data sent with every task
    map/thread          the same strategy on a ThreadPool
    map/spawn/shared    spawn processes, arrays in shared memory

Axis values are distinct words, so a label parses back without ambiguity.
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from foldrace.errors import InputError
from foldrace.executors.base import (
    CLUSTER_POOLS,
    DATA_MODES,
    DEFAULT_START_METHOD,
    LOCAL_POOLS,
    POOLS,
    Executor,
)

__all__ = ["ExecutorSpec", "cluster_specs", "expand_specs", "parse_spec", "standard_specs"]


def _registry() -> Any:
    from foldrace.executors import EXECUTORS

    return EXECUTORS


def _start_methods() -> tuple[str, ...]:
    methods = list(multiprocessing.get_all_start_methods())
    for cls in _registry().values():
        methods += list(cls.start_methods or ())
    return tuple(dict.fromkeys(methods))


@dataclass(frozen=True)
class ExecutorSpec:
    """A checked executor configuration; build one with :func:`parse_spec` or :meth:`of`.

    Attributes
    ----------
    strategy : str
        Registry name of the executor class.
    pool : str or None
        ``"process"`` or ``"thread"``; None for serial.
    start_method : str or None
        For process pools; None otherwise.
    data_passing : str
        ``"task"``, ``"worker"`` or ``"shared"``; always ``"task"`` without processes.
    """

    strategy: str
    pool: str | None
    start_method: str | None
    data_passing: str

    @classmethod
    def of(
        cls,
        strategy: str,
        pool: str | None = None,
        start_method: str | None = None,
        data_passing: str = "task",
    ) -> ExecutorSpec:
        """Check a combination against the strategy's class and fill in its defaults."""
        from foldrace.executors import get_executor

        probe = get_executor(strategy)(
            1, pool=pool, start_method=start_method, data_passing=data_passing
        )
        return cls(strategy, probe.pool_kind, probe.start_method, probe.data_passing)

    @property
    def executor_class(self) -> type[Executor]:
        """The registry class that runs this strategy."""
        return _registry()[self.strategy]

    @property
    def uses_processes(self) -> bool:
        """True for process pools."""
        return self.pool == "process"

    @property
    def label(self) -> str:
        """The strategy, then each non-default axis value, joined by ``/``."""
        cls = self.executor_class
        parts = [self.strategy]
        if self.pool is not None and cls.pools and self.pool != cls.pools[0]:
            parts.append(self.pool)
        default_method = (cls.start_methods or (DEFAULT_START_METHOD,))[0]
        if self.start_method is not None and self.start_method != default_method:
            parts.append(self.start_method)
        if self.data_passing != "task":
            parts.append(self.data_passing)
        return "/".join(parts)

    def options(self) -> dict[str, Any]:
        """Keyword arguments for the executor class."""
        return {
            "pool": self.pool,
            "start_method": self.start_method,
            "data_passing": self.data_passing,
        }

    def build(self, workers: int, **options: Any) -> Executor:
        """A new executor of this configuration with ``workers`` workers."""
        return self.executor_class(workers, **self.options(), **options)

    def describe(self) -> dict[str, Any]:
        """The configuration as a plain dict, for results files."""
        return {
            "strategy": self.strategy,
            "family": self.executor_class.family,
            "pool": self.pool,
            "start_method": self.start_method,
            "data_passing": self.data_passing,
        }


def _split(text: str) -> tuple[str, dict[str, str]]:
    """Split a label into its strategy and the axis values it fixes."""
    if not isinstance(text, str) or not text:
        raise InputError(f"executor must be a name like 'map' or 'map/thread', got {text!r}")
    strategy, *words = text.split("/")
    axes: dict[str, str] = {}
    values = {"pool": POOLS, "start_method": _start_methods(), "data": DATA_MODES}
    for word in words:
        matches = [axis for axis, known in values.items() if word in known]
        if not matches:
            known = ", ".join(itertools.chain.from_iterable(values.values()))
            raise InputError(f"unknown option {word!r} in executor {text!r}; known: {known}")
        if matches[0] in axes:
            raise InputError(f"executor {text!r} gives {matches[0]} twice")
        axes[matches[0]] = word
    return strategy, axes


def parse_spec(text: str, *, start_method: str | None = None) -> ExecutorSpec:
    """Parse a label such as ``"starmap/spawn/shared"``.

    ``start_method`` is used for process pools whose label names none.

    Raises
    ------
    InputError
        For an unknown strategy or option, or a combination the strategy cannot run.
    """
    strategy, axes = _split(text)
    return _of(strategy, axes, start_method)


def _of(
    strategy: str,
    axes: dict[str, str],
    start_method: str | None = None,
    open_pool: str | None = None,
    open_data: str | None = None,
) -> ExecutorSpec | None:
    """The spec for ``strategy`` with the axes its label fixes and values for the open ones.

    Open values apply only where the axis exists (serial has no pool; threads have no start
    method or data passing; joblib starts workers its own way); None when an open value is
    one the strategy does not offer.
    """
    from foldrace.executors import get_executor

    cls = get_executor(strategy)
    pool = axes.get("pool")
    if pool is None and cls.pools and open_pool is not None:
        if open_pool not in cls.pools:
            return None
        pool = open_pool
    kind = pool or (cls.pools or (None,))[0]
    method = axes.get("start_method")
    if method is None and kind == "process" and cls.start_methods is None:
        method = start_method
    data = axes.get("data", "task")
    modes = cls.data_modes_for(kind)
    if "data" not in axes and modes and open_data is not None:
        if open_data not in modes:
            return None
        data = open_data
    return ExecutorSpec.of(strategy, pool, method, data)


def expand_specs(
    executors: Iterable[str],
    *,
    pools: Iterable[str] | None = None,
    start_methods: Iterable[str] | None = None,
    data_passing: Iterable[str] | None = None,
) -> list[ExecutorSpec]:
    """Every configuration the given labels and axis values make, without repeats.

    An axis a label leaves open takes each of the given values (its default when none are
    given). A value goes only where its axis exists: serial has no pool, threads have no
    start method or data passing, joblib starts its workers its own way. Values a strategy
    does not offer are left out for it; the words of a label itself must all apply.

    Raises
    ------
    InputError
        For unknown names or options, or a label that leaves nothing to run.
    """
    specs: dict[str, ExecutorSpec] = {}
    for text in executors:
        strategy, axes = _split(text)
        grid = itertools.product(
            list(pools or [None]), list(start_methods or [None]), list(data_passing or [None])
        )
        found = [_of(strategy, axes, method, pool, mode) for pool, method, mode in grid]
        found = [spec for spec in found if spec is not None]
        if not found:
            raise InputError(f"executor {text!r} offers none of the chosen pools or options")
        for spec in found:
            specs.setdefault(spec.label, spec)
    return list(specs.values())


def standard_specs() -> list[ExecutorSpec]:
    """Every strategy on every local pool kind it offers, default options; serial first."""
    return [
        ExecutorSpec.of(name, pool)
        for name, cls in _registry().items()
        for pool in ([p for p in cls.pools if p in LOCAL_POOLS] or [None] * (not cls.pools))
    ]


def cluster_specs(kinds: tuple[str, ...] = CLUSTER_POOLS) -> list[ExecutorSpec]:
    """Every strategy on every cluster pool kind in ``kinds`` it offers, default options."""
    return [
        ExecutorSpec.of(name, pool)
        for name, cls in _registry().items()
        for pool in cls.pools
        if pool in kinds
    ]

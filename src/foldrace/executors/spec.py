"""One executor configuration: strategy x backend x start method x data passing, and
the dispatch knobs (chunk size, task order).

The registry lists strategies (one class each) and backends (one per kind of worker); an
:class:`ExecutorSpec` picks one of each and the remaining axes, checked against what both
declare. Its :attr:`~ExecutorSpec.label` names it everywhere (results, tables, plots, the
CLI): the strategy, then every axis that differs from the default, joined by ``/``::

    map                 Pool.map on fork processes, data sent with every task
    map/thread          the same strategy on a ThreadPool
    map/spawn/shared    spawn processes, arrays in shared memory
    map/chunksize=1     chunks of one task
    submit/order=longest-first   the longest tasks submitted first

Axis values are distinct words, so a label parses back without ambiguity (see
:mod:`foldrace.executors.labels`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from foldrace.errors import InputError
from foldrace.executors.backends import BACKENDS, Backend
from foldrace.executors.options import RunOptions, check_count, check_pre_dispatch
from foldrace.schedule import ORDERS

if TYPE_CHECKING:
    from foldrace.executors.base import Executor

__all__ = ["ExecutorSpec", "data_modes_of", "takes_chunks"]


@dataclass(frozen=True)
class ExecutorSpec:
    """A checked executor configuration; build one with :meth:`of` (or parse a label).

    Attributes
    ----------
    executor_class : type[Executor]
        The strategy's class.
    backend : str or None
        The kind of worker (``"process"``, ``"thread"``, ``"ray"``, ``"dask"``); None for
        serial, which has none.
    start_method : str or None
        How worker processes start; None where there is no choice (threads, clusters).
    data_passing : str
        ``"task"``, ``"worker"`` or ``"shared"``; ``"task"`` where workers share memory.
    chunksize : int or None
        Tasks per chunk, for the strategies that send chunks; their own default if None.
    order : str
        The order tasks are submitted in (:data:`foldrace.schedule.ORDERS`).
    pre_dispatch : str or None
        joblib's ``pre_dispatch`` (batches queued ahead); its default, ``"2*n_jobs"``, if
        None. Only for the strategies that take it (:attr:`Executor.takes_pre_dispatch`).
    """

    executor_class: type[Executor]
    backend: str | None
    start_method: str | None
    data_passing: str
    chunksize: int | None = None
    order: str = "given"
    pre_dispatch: str | None = None

    @classmethod
    def of(
        cls,
        executor_class: type[Executor],
        backend: str | None = None,
        start_method: str | None = None,
        data_passing: str | None = None,
        chunksize: object = None,
        order: str | None = None,
        pre_dispatch: object = None,
    ) -> ExecutorSpec:
        """Check a combination against what the strategy and backend offer; fill in defaults.

        Raises
        ------
        InputError
            Naming the axis, what was given and what is offered.
        """
        name = executor_class.name
        kind = _pick(f"'{name}'", "backend", backend, executor_class.backend_kinds())
        where = f"'{name}'" + (f" on {kind} workers" if kind else "")
        method = _pick(where, "start method", start_method, _start_methods(executor_class, kind))
        data = _pick(where, "data passing", data_passing, data_modes_of(executor_class, kind))
        if chunksize is not None:
            chunksize = check_count("chunksize", chunksize, 1)
            if not takes_chunks(executor_class, kind):
                raise InputError(f"executor {where} sends no chunks; got chunksize={chunksize}")
        orders = ORDERS if executor_class.parallel and executor_class.takes_order else ()
        chosen = _pick(where, "task order", order, orders) or "given"
        ahead = None
        if pre_dispatch is not None:
            ahead = check_pre_dispatch(pre_dispatch)
            if not executor_class.takes_pre_dispatch:
                raise InputError(f"executor {where} queues no batches ahead; got pre_dispatch")
        return cls(executor_class, kind, method, data or "task", chunksize, chosen, ahead)

    @property
    def strategy(self) -> str:
        """Registry name of the strategy."""
        return self.executor_class.name

    @property
    def backend_class(self) -> type[Backend] | None:
        """The backend's class; None for serial."""
        return BACKENDS[self.backend] if self.backend else None

    @property
    def uses_processes(self) -> bool:
        """True when workers are processes of this machine (tasks are pickled to them)."""
        backend = self.backend_class
        return backend is not None and backend.uses_processes

    @property
    def label(self) -> str:
        """The strategy, then each non-default axis value, joined by ``/``."""
        cls = self.executor_class
        kinds = cls.backend_kinds()
        parts = [self.strategy]
        if self.backend is not None and self.backend != kinds[0]:
            parts.append(self.backend)
        methods = _start_methods(cls, self.backend)
        if self.start_method is not None and self.start_method != methods[0]:
            parts.append(self.start_method)
        if self.data_passing != "task":
            parts.append(self.data_passing)
        if self.chunksize is not None:
            parts.append(f"chunksize={self.chunksize}")
        if self.order != "given":
            parts.append(f"order={self.order}")
        if self.pre_dispatch is not None:
            parts.append(f"pre_dispatch={self.pre_dispatch}")
        return "/".join(parts)

    def build(self, options: RunOptions | int = 1, **more: Any) -> Executor:
        """A new executor of this configuration.

        ``options`` are checked :class:`RunOptions`, used as they are; or a worker count,
        checked here with the keywords ``more`` (see :meth:`RunOptions.checked`).
        """
        if not isinstance(options, RunOptions):
            options = RunOptions.checked(options, **more)
        elif more:
            raise TypeError("build() takes either RunOptions or a worker count and keywords")
        return self.executor_class.configured(self, options)

    def describe(self) -> dict[str, Any]:
        """The configuration as a plain dict, for results files (``pool``: the backend)."""
        return {
            "strategy": self.strategy,
            "family": self.executor_class.family,
            "pool": self.backend,
            "start_method": self.start_method,
            "data_passing": self.data_passing,
            "chunksize": self.chunksize,
            "order": self.order,
            "pre_dispatch": self.pre_dispatch,
        }


def takes_chunks(executor_class: type[Executor], backend: str | None) -> bool:
    """Whether a chunk size changes what the strategy sends: ``Executor.map`` sends chunks
    to processes only (threads and clusters ignore it)."""
    if not executor_class.takes_chunksize or backend is None:
        return False
    return executor_class.api != "futures" or BACKENDS[backend].uses_processes


def _start_methods(executor_class: type[Executor], backend: str | None) -> tuple[str, ...]:
    """Start methods on offer: the strategy's own, else its backend's; the default first."""
    if backend is None or not BACKENDS[backend].uses_processes:
        return ()
    return executor_class.start_methods or BACKENDS[backend].start_methods


def data_modes_of(executor_class: type[Executor], backend: str | None) -> tuple[str, ...]:
    """Data passing modes both the strategy and its backend offer, ``"task"`` first."""
    if backend is None:
        return ()
    chosen = BACKENDS[backend]
    api = executor_class.api or ""
    offered = chosen.api_data_modes.get(api, chosen.data_modes)
    return tuple(mode for mode in executor_class.data_modes if mode in offered)


def _pick(where: str, axis: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    """``value``, or the first allowed value for None, if it is allowed.

    An empty ``allowed`` means the axis does not apply (serial has no backend, threads
    have no start method); only None, or ``"task"`` for data passing, is accepted then.
    """
    if value is None or (not allowed and axis == "data passing" and value == "task"):
        return allowed[0] if allowed else None
    if value not in allowed:
        if allowed:
            raise InputError(f"executor {where} offers {axis} {', '.join(allowed)}; got {value!r}")
        raise InputError(f"executor {where} has no {axis} to choose; got {value!r}")
    return value

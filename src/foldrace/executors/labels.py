"""Executor labels: text such as ``"starmap/spawn/shared"`` to checked configurations.

A label is a strategy's registry name, then any axis values it fixes, joined by ``/``
(see :mod:`foldrace.executors.spec`); the values of different axes are distinct words, and
the dispatch knobs are ``key=value`` words (``chunksize=4``, ``order=longest-first``,
``pre_dispatch=all``).
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Iterable

from foldrace.errors import InputError
from foldrace.executors.backends import BACKENDS, CLUSTER_BACKENDS, LOCAL_BACKENDS
from foldrace.executors.options import DATA_MODES, check_count, check_pre_dispatch
from foldrace.executors.registry import EXECUTORS, get_executor
from foldrace.executors.spec import ExecutorSpec, data_modes_of, takes_chunks
from foldrace.schedule import ORDERS

__all__ = [
    "ALL",
    "cluster_specs",
    "executor_labels",
    "expand_specs",
    "parse_spec",
    "standard_specs",
]


def _axis_values() -> dict[str, tuple[str, ...]]:
    """Every value each axis can take: backends, start methods, data passing modes."""
    methods = [*multiprocessing.get_all_start_methods()]
    methods += [m for cls in EXECUTORS.values() for m in cls.start_methods or ()]
    return {
        "backend": tuple(BACKENDS),
        "start_method": tuple(dict.fromkeys(methods)),
        "data_passing": DATA_MODES,
    }


def _split(text: object) -> tuple[str, dict[str, str]]:
    """Split a label into its strategy and the axis values it fixes."""
    if not isinstance(text, str) or not text:
        raise InputError(f"executor must be a name like 'map' or 'map/thread', got {text!r}")
    strategy, *words = text.split("/")
    axes: dict[str, str] = {}
    values = _axis_values()
    for word in words:
        key, equals, value = word.partition("=")
        if equals:
            if key not in KNOBS:
                raise InputError(
                    f"unknown option {key!r} in executor {text!r}; known: {', '.join(KNOBS)}"
                )
            if key in axes:
                raise InputError(f"executor {text!r} gives {key} twice")
            axes[key] = value
            continue
        matches = [axis for axis, known in values.items() if word in known]
        if not matches:
            known = ", ".join(itertools.chain.from_iterable(values.values()))
            raise InputError(f"unknown option {word!r} in executor {text!r}; known: {known}")
        if matches[0] in axes:
            raise InputError(f"executor {text!r} gives {matches[0].replace('_', ' ')} twice")
        axes[matches[0]] = word
    return strategy, axes


KNOBS = ("chunksize", "order", "pre_dispatch")
"""The dispatch knobs a label sets with ``key=value`` words."""


def _chunksize(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise InputError(f"chunksize must be an integer of at least 1, got {text!r}") from None


def parse_spec(text: str, *, start_method: str | None = None) -> ExecutorSpec:
    """Parse a label such as ``"starmap/spawn/shared"``.

    ``start_method`` is used for process backends whose label names none.

    Raises
    ------
    InputError
        For an unknown strategy or option, or a combination the strategy cannot run.
    """
    strategy, axes = _split(text)
    spec = _of(strategy, axes, start_method=start_method)
    assert spec is not None  # no open backend or data passing given: never left out
    return spec


def _of(
    strategy: str,
    axes: dict[str, str],
    *,
    start_method: str | None = None,
    backend: str | None = None,
    data_passing: str | None = None,
    chunksize: int | None = None,
    order: str | None = None,
    pre_dispatch: str | None = None,
) -> ExecutorSpec | None:
    """The spec for ``strategy`` with the axes its label fixes and values for the open ones.

    An open value applies only where its axis exists (serial has no backend; threads have
    no start method or data passing; joblib starts workers its own way; scikit-learn's
    searches keep their own task order); None when it is one the strategy does not offer.
    """
    cls = get_executor(strategy)
    kinds = cls.backend_kinds()
    kind = axes.get("backend")
    if kind is None and kinds and backend is not None:
        if backend not in kinds:
            return None
        kind = backend
    chosen = BACKENDS[kind or kinds[0]] if kinds else None
    method = axes.get("start_method")
    if method is None and chosen is not None and chosen.uses_processes and not cls.start_methods:
        method = start_method
    data = axes.get("data_passing")
    offered = data_modes_of(cls, kind or (kinds or [None])[0])
    if data is None and len(offered) > 1 and data_passing is not None:
        if data_passing not in offered:
            return None
        data = data_passing
    size = _chunksize(axes.get("chunksize"))
    if size is None and chunksize is not None and takes_chunks(cls, kind or (kinds or [None])[0]):
        size = chunksize  # only where chunks are sent: not by apply, nor to threads' map
    submitted = axes.get("order") or (order if cls.parallel and cls.takes_order else None)
    ahead = axes.get("pre_dispatch") or (pre_dispatch if cls.takes_pre_dispatch else None)
    return ExecutorSpec.of(cls, kind, method, data, size, submitted, ahead)


def expand_specs(
    executors: Iterable[str],
    *,
    backends: Iterable[str] | None = None,
    start_methods: Iterable[str] | None = None,
    data_passing: Iterable[str] | None = None,
    chunksizes: Iterable[int] | None = None,
    orders: Iterable[str] | None = None,
    pre_dispatches: Iterable[str] | None = None,
) -> list[ExecutorSpec]:
    """Every configuration the given labels and axis values make, without repeats.

    An axis a label leaves open takes each of the given values (its default when none are
    given). A value goes only where its axis exists: serial has no backend, threads have
    no start method or data passing, joblib starts its workers its own way. Values a
    strategy does not offer are left out for it; the words of a label itself must all
    apply.

    Raises
    ------
    InputError
        For unknown names or values, or a label that leaves nothing to run.
    """
    given = {
        "backend": None if backends is None else list(backends),
        "start_method": None if start_methods is None else list(start_methods),
        "data_passing": None if data_passing is None else list(data_passing),
        "order": None if orders is None else list(orders),
    }  # read once: generators too
    sizes: list[int | None] = [None] if chunksizes is None else list(chunksizes)
    aheads: list[str | None] = [None] if pre_dispatches is None else list(pre_dispatches)
    for ahead in aheads:
        if ahead is not None:
            check_pre_dispatch(ahead)
    for size in sizes:
        if size is not None:
            check_count("chunksize", size, 1)
    known = {**_axis_values(), "order": ORDERS}
    for axis, values in given.items():
        for value in values or ():
            if value not in known[axis]:
                raise InputError(
                    f"unknown {axis.replace('_', ' ')} {value!r}; known: {', '.join(known[axis])}"
                )
    specs: dict[str, ExecutorSpec] = {}
    for text in executors:
        strategy, axes = _split(text)
        grid: list[list[str | None]] = [
            [*values] if values else [None] for values in given.values()
        ]
        found = [
            _of(
                strategy,
                axes,
                backend=kind,
                start_method=method,
                data_passing=mode,
                chunksize=size,
                order=order,
                pre_dispatch=ahead,
            )
            for kind, method, mode, order in itertools.product(*grid)
            for size in sizes
            for ahead in aheads
        ]
        kept = [spec for spec in found if spec is not None]
        if not kept:
            raise InputError(f"executor {text!r} offers none of the chosen backends or options")
        for spec in kept:
            specs.setdefault(spec.label, spec)
    return list(specs.values())


ALL = "all"
"""The executor name that stands for every strategy on every local backend."""


def executor_labels(names: Iterable[str]) -> list[str]:
    """``names`` with :data:`ALL` replaced by every standard label (serial first), no repeats.

    Examples
    --------
    >>> executor_labels(["all"])[:3]
    ['serial', 'apply', 'apply/thread']
    """
    given = list(names)
    if ALL not in given:
        return given
    standard = [spec.label for spec in standard_specs()]
    return list(dict.fromkeys(standard + [name for name in given if name != ALL]))


def standard_specs() -> list[ExecutorSpec]:
    """Every strategy on every local backend it offers, default options; serial first."""
    return _specs_on(LOCAL_BACKENDS, serial=True)


def cluster_specs(kinds: tuple[str, ...] = CLUSTER_BACKENDS) -> list[ExecutorSpec]:
    """Every strategy on every cluster backend in ``kinds`` it offers, default options."""
    return _specs_on(kinds, serial=False)


def _specs_on(kinds: Iterable[str], *, serial: bool) -> list[ExecutorSpec]:
    chosen = list(kinds)
    specs = []
    for cls in EXECUTORS.values():
        offered = cls.backend_kinds()
        if not offered and serial:
            specs.append(ExecutorSpec.of(cls))
        specs += [ExecutorSpec.of(cls, kind) for kind in offered if kind in chosen]
    return specs

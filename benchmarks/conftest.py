"""Settings and fixtures of the benchmark suite.

pytest options (``pytest benchmarks --help`` lists them under "foldrace benchmarks"), or
the environment variables they set, let a larger machine sweep further without editing
anything:

- ``FOLDRACE_BENCH_WORKERS``: worker counts, e.g. ``1,2,4,8,16`` (default: 1 up to the
  usable CPUs);
- ``FOLDRACE_BENCH_SIZES``: workloads to run, from ``seed`` (1000 samples, the blog's) and
  ``large`` (20000 samples, where compute dominates) (default: both);
- ``FOLDRACE_BENCH_ROUNDS``: timed rounds per benchmark (default: 5 for seed, 3 for large).
"""

from __future__ import annotations

import os

import pytest

from foldrace import benchmark_fold, default_workload, mean_scores
from foldrace.executors import usable_cpus
from foldrace.machine import describe_machine

SIZES = {"seed": 1000, "large": 20000}

OPTIONS = {
    "--bench-workers": ("FOLDRACE_BENCH_WORKERS", "worker counts, e.g. 1,2,4,8,16"),
    "--bench-sizes": ("FOLDRACE_BENCH_SIZES", "workloads: seed, large (default: both)"),
    "--bench-rounds": ("FOLDRACE_BENCH_ROUNDS", "timed rounds per benchmark"),
    "--bench-data-sizes": ("FOLDRACE_BENCH_DATA_SIZES", "samples of the data-passing sweep"),
}
"""Each option and the environment variable it sets."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("foldrace benchmarks")
    for option, (variable, meaning) in OPTIONS.items():
        group.addoption(option, metavar="LIST", help=f"{meaning} (or {variable})")


def pytest_configure(config: pytest.Config) -> None:
    """An option given on the command line wins over its environment variable."""
    for option, (variable, _) in OPTIONS.items():
        value = config.getoption(option)
        if value is not None:
            os.environ[variable] = value


def bench_workers() -> list[int]:
    """Worker counts to sweep."""
    text = os.environ.get("FOLDRACE_BENCH_WORKERS")
    if text:
        return sorted({int(part) for part in text.split(",") if part.strip()})
    return list(range(1, usable_cpus() + 1))


def bench_sizes() -> list[str]:
    """Workload names to run."""
    text = os.environ.get("FOLDRACE_BENCH_SIZES")
    names = [part.strip() for part in text.split(",")] if text else list(SIZES)
    unknown = set(names) - set(SIZES)
    if unknown:
        raise pytest.UsageError(
            f"FOLDRACE_BENCH_SIZES: unknown {sorted(unknown)}; known: {list(SIZES)}"
        )
    return names


def rounds(size: str) -> int:
    """Timed rounds for one benchmark of this workload."""
    text = os.environ.get("FOLDRACE_BENCH_ROUNDS")
    return int(text) if text else (5 if size == "seed" else 3)


def pytest_benchmark_update_machine_info(config, machine_info):
    """CPU count and the library versions that shape the timings, beside pytest-benchmark's."""
    machine_info["foldrace"] = describe_machine()


_WORKLOADS: dict = {}
_REFERENCES: dict = {}


@pytest.fixture(scope="session")
def workload_of():
    """``workload_of(size)``: the default workload at that size, built once."""

    def get(size: str):
        if size not in _WORKLOADS:
            _WORKLOADS[size] = default_workload(n_samples=SIZES[size])
        return _WORKLOADS[size]

    return get


@pytest.fixture(scope="session")
def reference_of(workload_of):
    """``reference_of(size)``: serial per-fold scores and their averages, computed once."""

    def get(size: str) -> dict:
        if size not in _REFERENCES:
            workload = workload_of(size)
            results = [benchmark_fold(*workload.common_args, t) for t in workload.tasks()]
            _REFERENCES[size] = {
                "averages": mean_scores(results),
                "fold_scores": {
                    m: sorted(r.scores[m] for r in results) for m in workload.model_names
                },
            }
        return _REFERENCES[size]

    return get


def _race_cell(item: pytest.Item) -> tuple[str, str, str] | None:
    """``(executor, size, granularity)`` of a ``test_race`` benchmark, else None."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or getattr(item, "originalname", "") != "test_race":
        return None
    params = callspec.params
    return params["executor"], params["size"], params["granularity"]


_DESELECTED: list[pytest.Item] = []


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Remember deselected serial races: a selection keeps the reference it is timed against."""
    _DESELECTED.extend(item for item in items if (_race_cell(item) or ("",))[0] == "serial")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put back the serial race of every workload and granularity that a ``-k`` selection
    keeps other races of: speedups are taken against it (``foldrace plot`` needs it)."""
    cells = {cell[1:] for cell in map(_race_cell, items) if cell is not None}
    kept = [item for item in _DESELECTED if (_race_cell(item) or ("", "", ""))[1:] in cells]
    items[:0] = kept
    _DESELECTED.clear()

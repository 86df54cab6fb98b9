"""Data passing: with every task, once per worker, or through shared memory."""

from __future__ import annotations

import os

import numpy as np
import pytest

from foldrace import benchmark_fold, mean_scores, race
from foldrace.executors import EXECUTORS, ExecutorSpec, get_executor, parse_spec
from foldrace.executors.data import SharedArray, SharedData
from foldrace.harness import payload_sizes

MODES = [
    f"{name}/{mode}"
    for name, cls in EXECUTORS.items()
    if "process" in cls.backend_kinds()
    for mode in cls.data_modes
    if mode != "task"
]


def _run(label, workload, workers=2):
    common = workload.common_args
    with parse_spec(label).build(workers).bind(common) as executor:
        return executor.run(benchmark_fold, workload.tasks())


def _shm_blocks() -> set[str]:
    return set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()


def _ours(names: set[str], created: list[str]) -> set[str]:
    """The entries this test made: blocks it created, or entries naming this process.

    (Other programs on the machine may add entries of their own meanwhile.)
    """
    me = str(os.getpid())
    return {n for n in names if n.lstrip("/") in created or me in n.split("_") + n.split("-")}


@pytest.mark.parametrize("label", [*MODES, "map/spawn/worker", "submit/spawn/shared"])
def test_every_data_mode_gives_the_serial_scores_bitwise(small_workload, label, monkeypatch):
    from multiprocessing import shared_memory

    created: list[str] = []

    class Recorded(shared_memory.SharedMemory):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if kwargs.get("create"):
                created.append(self.name.lstrip("/"))

    monkeypatch.setattr("foldrace.executors.data.shared_memory.SharedMemory", Recorded)
    before = _shm_blocks()
    results = _run(label, small_workload)
    assert [r.fold for r in results] == [0, 1, 2]
    assert mean_scores(results) == mean_scores(_run("serial", small_workload, 1))
    if label.endswith("/shared") and not label.startswith("joblib"):
        assert created, "no shared memory block was made"
    left = _ours(_shm_blocks() - before, created)
    assert left == set(), "shared memory blocks must be freed at shutdown"


def test_shared_arrays_are_mapped_read_only_without_copying():
    X = np.arange(12.0).reshape(3, 4)
    shared = SharedData((X, {"not": "an array"}))
    try:
        handle, other = shared.handles
        assert isinstance(handle, SharedArray)
        assert other == {"not": "an array"}
        view = handle.attach()
        assert np.array_equal(view, X)
        assert view.dtype == X.dtype
        assert not view.flags.writeable
        assert shared.nbytes >= X.nbytes
    finally:
        shared.close()
    assert handle.name not in _shm_blocks()


def test_the_shared_arguments_cannot_change_once_the_workers_started(small_workload):
    common = small_workload.common_args
    executor = parse_spec("map/worker").build(1).bind(common)
    with executor, pytest.raises(RuntimeError, match="before the workers start"):
        executor.bind((common[0].copy(), *common[1:]))


@pytest.mark.parametrize("label", ["map/worker", "starmap/shared", "submit/shared", "map"])
def test_the_shared_arguments_are_given_once_from_any_iterable(small_workload, label):
    shared = iter(small_workload.common_args)  # read once, at bind
    with parse_spec(label).build(2).bind(shared) as executor:
        results = executor.run(benchmark_fold, small_workload.tasks())
    assert [r.fold for r in results] == [0, 1, 2]
    assert mean_scores(results) == mean_scores(_run("serial", small_workload, 1))


FORK_LABELS = ["map", "map/worker", "map/shared", "map/thread", "serial"]


def test_bytes_per_task_shrink_when_the_data_is_sent_once(seed_workload):
    task = seed_workload.tasks()[0]
    sizes = {
        label: payload_sizes(parse_spec(label), seed_workload, task)
        for label in [*FORK_LABELS, "map/spawn/worker", "map/spawn/shared"]
    }
    data_bytes = seed_workload.X.nbytes + seed_workload.y.nbytes
    assert sizes["map"]["bytes_per_task"] > data_bytes
    assert sizes["map"]["bytes_per_worker"] == 0
    assert sizes["map/worker"]["bytes_per_task"] < data_bytes / 10  # the fold indices
    assert sizes["map/shared"]["bytes_per_task"] == sizes["map/worker"]["bytes_per_task"]
    # fork workers inherit their initializer's arguments: nothing is pickled at start-up
    assert sizes["map/worker"]["bytes_per_worker"] == sizes["map/shared"]["bytes_per_worker"] == 0
    assert sizes["map/spawn/worker"]["bytes_per_worker"] > data_bytes
    assert 0 < sizes["map/spawn/shared"]["bytes_per_worker"] < 10_000
    assert sizes["map/thread"] == sizes["serial"] == {"bytes_per_task": 0, "bytes_per_worker": 0}


def test_a_race_over_data_modes_records_them(small_workload):
    result = race(
        small_workload,
        ["starmap", "joblib"],
        [2],
        repeats=1,
        warmup=0,
        data_passing=["task", "worker", "shared"],
    )
    assert result.check().identical
    labels = set(result.timings["executor"])
    assert labels == {
        "serial",
        "starmap",
        "starmap/worker",
        "starmap/shared",
        "joblib",
        "joblib/shared",
    }
    assert result.meta["configs"]["starmap/shared"]["data_passing"] == "shared"
    payload = result.meta["payload"]
    assert payload["starmap/worker"]["bytes_per_task"] < payload["starmap"]["bytes_per_task"]
    assert ExecutorSpec.of(get_executor("starmap"), data_passing="shared").label == "starmap/shared"

"""The fault matrix: every executor in the registry against every way a race can go wrong.

Faulty estimators come from :mod:`foldrace.testing`. With ``spare_pid=os.getpid()`` they
behave in this process (so the serial reference run is quick and clean) and misbehave in
worker processes. The healthy folds sleep for a long time, so an executor that waited for
them before reporting a fault is caught: the error must come before any healthy fold could
have finished (an order of events, not a time budget). Worker processes are killed when a
race fails, so theirs sleep long; worker threads cannot be killed, and an aborted thread
pool waits for its running tasks, so theirs sleep less. Every test also checks, through the
autouse fixture in conftest, that no child process is left behind.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from conftest import child_pids, extra
from foldrace import FoldTaskError, InputError, RaceError, Workload, default_workload, race
from foldrace.errors import TaskTimeoutError, WorkerDiedError
from foldrace.executors import (
    Executor,
    cluster_specs,
    parse_spec,
    standard_specs,
    threads_left_behind,
)
from foldrace.testing import (
    CrashingClassifier,
    FailingClassifier,
    NoisyClassifier,
    SlowClassifier,
    uneven_folds,
)

ALL = [spec.label for spec in standard_specs()]
# A thread cannot die alone: os._exit or a fatal signal ends the whole process.
PROCESSES = [spec.label for spec in standard_specs() if spec.uses_processes]
HEALTHY_SECONDS = 20.0  # the least a healthy fold sleeps in a worker process
THREAD_HEALTHY_SECONDS = 0.5  # ... in a worker thread (the pool waits for it)
# Fold sizes: the fault strikes the fold that trains on 40 rows; the others train on 120
# and 240, and sleep (healthy seconds) x rows / 120.
FAULT_FIRST = (40, 240, 120)
FAULT_SECOND = (240, 40, 120)  # the fault strikes while fold 0 still runs


def healthy_seconds(name: str) -> float:
    """How long the shortest healthy fold sleeps on this executor's workers."""
    return HEALTHY_SECONDS if parse_spec(name).uses_processes else THREAD_HEALTHY_SECONDS


def faulty(small_workload, estimator, train_sizes=FAULT_FIRST) -> Workload:
    """Three folds of the given training sizes; the fault strikes the one of 40 rows."""
    folds = uneven_folds(len(small_workload.y), train_sizes=train_sizes, test_size=20)
    return Workload(small_workload.X, small_workload.y, {"m": estimator}, folds=folds)


def spare(name: str) -> int | None:
    """Spare this process unless the executor under test runs here (serial)."""
    return None if name == "serial" else os.getpid()


def timed_race(workload, name, **options):
    """Race one executor on 2 workers (serial on 1); return the error and when it came.

    The moment is wall-clock time (``time.time()``), as the classifiers' ``end_file`` lines.
    """
    workers = 1 if name == "serial" else 2
    with pytest.raises(RaceError) as info:
        race(workload, [name], [workers], repeats=1, warmup=0, **options)
    return info.value, time.time()


def ended_before(end_file: Path, moment: float) -> list[float]:
    """The healthy folds that ended (their ``end_file`` lines) before ``moment``.

    A race that fails fast has stopped, or returned from, its workers before any of them
    could end: this is empty. One that waited for them is not.
    """
    if not end_file.exists():
        return []
    return [stamp for stamp in map(float, end_file.read_text().split()) if stamp < moment]


# One task at a time (serial, apply) cannot have a fault strike while another task runs.
CONCURRENT = [n for n in ALL if parse_spec(n).executor_class.schedule != "sequential"]
FAULT_POSITIONS = [(name, 0) for name in ALL] + [(name, 1) for name in CONCURRENT]


@pytest.mark.parametrize(("name", "fold"), FAULT_POSITIONS)
def test_a_raising_fit_is_named_and_chained_at_once(small_workload, name, fold, tmp_path):
    per_sample = healthy_seconds(name) / 120
    ends = tmp_path / "ends"
    bad = FailingClassifier(60, per_sample, spare(name), end_file=str(ends))
    sizes = FAULT_FIRST if fold == 0 else FAULT_SECOND
    error, returned = timed_race(faulty(small_workload, bad, sizes), name)
    assert error.executor == name
    assert error.fold == fold
    assert f"executor '{name}'" in str(error)
    assert f"fold {fold}, model 'm': ValueError: refusing to fit on 40 samples" in str(error)
    cause = error.__cause__
    assert isinstance(cause, FoldTaskError)
    assert "ValueError: refusing to fit" in cause.worker_traceback
    assert "testing.py" in cause.worker_traceback  # the traceback from where it happened
    if parse_spec(name).uses_processes:  # fail fast: before any healthy fold could finish
        assert ended_before(ends, returned) == [], f"{name} waited for a healthy fold"
    else:  # threads cannot be stopped: the pool waited for its running tasks to leave
        assert threads_left_behind() == []


@pytest.mark.parametrize("how", ["exit", "kill"])
@pytest.mark.parametrize("name", PROCESSES)
def test_a_dying_worker_is_reported_never_a_hang(small_workload, name, how, tmp_path):
    per_sample = HEALTHY_SECONDS / 120
    ends = tmp_path / "ends"
    bad = CrashingClassifier(40 + 1, how, per_sample, os.getpid(), end_file=str(ends))
    error, returned = timed_race(faulty(small_workload, bad), name)
    assert error.executor == name
    assert isinstance(error.__cause__, WorkerDiedError)
    expected = "killed by signal 9" if how == "kill" else "exit code 1"
    assert f"died ({expected})" in str(error)
    if parse_spec(name).executor_class.api not in ("joblib", "sklearn"):  # loky: exit codes
        assert re.search(r"worker process \d+ died", str(error))
    if name == "apply":  # one task at a time: the fold is known
        assert error.fold == 0
        assert "unfinished fold: 0" in str(error)
    assert ended_before(ends, returned) == [], f"{name} waited for a healthy fold"


@pytest.mark.parametrize("name", ALL)
def test_a_task_past_the_timeout_is_a_timeout_error(small_workload, name, tmp_path):
    ends = tmp_path / "ends"
    slow = SlowClassifier(HEALTHY_SECONDS / 40, spare(name), end_file=str(ends))
    error, returned = timed_race(faulty(small_workload, slow), name, timeout=0.5)
    assert error.executor == name
    assert isinstance(error.__cause__, TaskTimeoutError)
    assert "after the 0.5 s timeout" in str(error)
    assert ended_before(ends, returned) == [], f"{name} waited for the slow task, not its timeout"


@pytest.mark.parametrize("name", ALL)
def test_a_non_deterministic_model_fails_the_identical_check(small_workload, name):
    workload = Workload(small_workload.X, small_workload.y, {"noisy": NoisyClassifier(0.0)})
    # Two runs tie by chance about once in 600 (ranks, not values, make ROC-AUC): with
    # three repeats the serial executor alone still compares two runs with the first.
    result = race(workload, [name], [1], repeats=3, warmup=0)
    check = result.check()
    assert not check.identical
    assert set(check.mismatches["model"]) == {"noisy"}
    assert name in set(check.mismatches["executor"])
    assert f"{name} (workers=1) on noisy" in check.describe()


class LocalClassifier(SlowClassifier):
    """Picklable: defined at module top level."""


def _local_estimator():
    class Unpicklable(SlowClassifier):  # defined inside a function: cannot be pickled
        pass

    return Unpicklable(0.0)


def _spy_on_starts(monkeypatch) -> list[str]:
    """Record every executor started (entered), serial included; each still starts."""
    started: list[str] = []
    enter = Executor.__enter__

    def spy(self):
        started.append(type(self).__name__)
        return enter(self)

    monkeypatch.setattr(Executor, "__enter__", spy)
    return started


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("what", ["estimator", "scorer"])
def test_an_unpicklable_workload_says_why_and_what_to_do(small_workload, name, what, monkeypatch):
    models = {"m": _local_estimator() if what == "estimator" else LocalClassifier(0.0)}
    scorer = (lambda est, X, y: 0.5) if what == "scorer" else None
    workload = Workload(small_workload.X, small_workload.y, models, scorer=scorer)
    started = _spy_on_starts(monkeypatch)
    spec = parse_spec(name)
    if not spec.uses_processes:  # serial and threads pickle nothing
        assert race(workload, [name], [1], repeats=1, warmup=0).check().identical
        assert started  # the spy sees executors start
        return
    if spec.start_method == "loky":  # cloudpickle carries local classes and lambdas by value
        assert race(workload, [name], [2], repeats=1, warmup=0).check().identical
        return
    with pytest.raises(InputError, match="cannot be pickled") as info:
        race(workload, [name], [2], repeats=1, warmup=0)
    assert "top level of an importable module" in str(info.value)
    assert started == []  # refused before any pool starts, even the serial run's


HELD = textwrap.dedent(
    """
    import os
    from pathlib import Path

    from foldrace import Workload, default_workload
    from foldrace.testing import SlowClassifier

    HERE = Path(__file__).parent


    class Held(SlowClassifier):
        \"\"\"Quick until the file 'hold' exists; from then on, 200 s a fold in a worker.\"\"\"

        def fit(self, X, y):
            return super().fit(X, y) if (HERE / "hold").exists() else self._fit(X, y)


    def make():
        base = default_workload(n_samples=300)
        held = Held(1.0, spare_pid=os.getpid(), stamp_file=str(HERE / "stuck"))
        return Workload(base.X, base.y, {"m": held}, folds=base.folds)
    """
)


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux /proc")
def test_ctrl_c_saves_what_was_measured_and_exits_130(tmp_path):
    # Runs are quick until the test holds the workers: then every running task sleeps for
    # 200 s, so an exit within the 30 s hang guard of Ctrl-C means the pool was stopped,
    # not waited for (nor timed out: the default deadline is 60 s at least).
    (tmp_path / "held.py").write_text(HELD)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "foldrace", "run", "--workload", "held:make",
            "--executors", "starmap", "--workers", "2", "--repeats", "20", "--out", str(out),
            "--progress",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )  # fmt: skip
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(iter(lambda: process.stderr.read(1), "")))
    reader.start()
    children: list[int] = []
    try:
        # the warm-up round (serial, starmap) and a timed run, as the progress bar shows
        _wait_for(lambda: re.search(r"\b([3-9]|[1-9]\d+)/\d+ \[", "".join(err)), process)
        (tmp_path / "hold").touch()
        _wait_for(lambda: (tmp_path / "stuck").exists(), process)  # a worker holds a task
        children = child_pids(process.pid)
        assert len(children) >= 2, "no running pool"
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("foldrace run did not exit within 30 s of Ctrl-C: it waited for its tasks")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=30)
    text = "".join(err)
    assert process.returncode == 130, text
    assert "interrupted" in text
    assert "Traceback" not in text
    (folder,) = out.glob("run-*")  # the interrupted run's own folder
    assert f"saved in {folder}/, marked incomplete" in text
    data = json.loads((folder / "results.json").read_text())
    assert data["meta"]["complete"] is False
    assert len(data["timings"]) >= 1
    assert not (out / "latest").exists()  # latest never points at an incomplete run
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]  # complete or absent
    for child in children:  # no orphan left running, no zombie
        assert not os.path.exists(f"/proc/{child}"), f"worker {child} outlived the race"


def _wait_for(condition, process: subprocess.Popen, guard: float = 120.0) -> None:
    """Wait until ``condition()`` holds; fail if the process ends first or on a hang."""
    deadline = time.monotonic() + guard
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"foldrace run ended or hung first (exit code {process.poll()})")
        time.sleep(0.05)


def test_notebook_classes_race_where_they_can_be_carried_and_are_refused_with_the_lesson(
    small_workload, monkeypatch
):
    main = sys.modules["__main__"]
    if hasattr(main, "__file__"):
        monkeypatch.delattr(main, "__file__")  # as in a REPL or a notebook
    interactive = type("Interactive", (SlowClassifier,), {"__module__": "__main__"})
    monkeypatch.setattr(main, "Interactive", interactive, raising=False)  # a notebook cell's
    workload = Workload(small_workload.X, small_workload.y, {"m": interactive(0.0)})
    for method in ("spawn", "forkserver"):
        with pytest.raises(InputError, match=f"a notebook\\), which {method} workers") as info:
            race(workload, ["map"], [2], repeats=1, start_method=method)
        assert "move it into a .py module" in str(info.value)
        assert "pickles classes by value (joblib" in str(info.value)
    # fork workers inherit it; loky's get it by value (cloudpickle), as cross_val_score's do
    carried = race(workload, ["map", "joblib", "gridsearch"], [2], repeats=1, warmup=0)
    assert carried.check().identical


def test_the_start_method_is_recorded(small_workload):
    result = race(small_workload, ["map"], [1], repeats=1, warmup=0, start_method="spawn")
    assert result.meta["start_method"] == "spawn"
    assert result.check().identical


DASK = [spec.label for spec in cluster_specs(("dask",))]


@pytest.mark.parametrize("name", DASK)
def test_a_fault_on_a_dask_cluster_is_reported_while_another_task_runs(
    small_workload, name, tmp_path
):
    extra("distributed", "dask")
    per_sample = HEALTHY_SECONDS / 120
    ends = tmp_path / "ends"
    bad = FailingClassifier(60, per_sample, os.getpid(), end_file=str(ends))
    # an embedded cluster, stopped with the race: the healthy fold 0 does not outlive it
    error, returned = timed_race(faulty(small_workload, bad, FAULT_SECOND), name)
    assert error.executor == name
    assert error.fold == 1
    assert "fold 1, model 'm': ValueError: refusing to fit on 40 samples" in str(error)
    assert ended_before(ends, returned) == [], f"{name} waited for a healthy fold"


def test_a_fault_s_own_stamp_is_marked_so_that_detection_is_timed_from_it(tmp_path):
    """benchmarks/fault_detection.py times from the fault's line, whichever fold started first."""
    stamps = tmp_path / "stamps"
    data = default_workload(n_samples=60)
    X, y = data.X, data.y
    FailingClassifier(50, 0.0, None, str(stamps)).fit(X[:55], y[:55])  # healthy: a plain line
    with pytest.raises(ValueError, match="refusing to fit on 40 samples"):
        FailingClassifier(50, 0.0, None, str(stamps)).fit(X[:40], y[:40])
    lines = [line.split() for line in stamps.read_text().splitlines()]
    assert [len(line) for line in lines] == [1, 2]
    assert lines[1][1] == "fault"
    assert float(lines[0][0]) <= float(lines[1][0])

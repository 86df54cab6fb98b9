"""Stop signals, stuck threads and deadlocks, driven through real ``foldrace`` processes.

Each run starts in a session of its own, so that every process it started (workers, loky's
resource tracker, a fork server) can be found afterwards by its session id. Waits are hang
guards only: a test fails if the program does not end, never because it was slow.
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

from conftest import child_pids, default_ctrl_c, dump_stacks, session_processes
from foldrace import InputError, RaceError, race
from foldrace.executors import standard_specs

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")

THREADS = [spec.label for spec in standard_specs() if spec.backend == "thread"]
HANG_GUARD = 30.0  # seconds a stopped program may take to end before the test calls it a hang
SHM = Path("/dev/shm")

STUCK = textwrap.dedent(
    """
    import os
    from pathlib import Path

    from foldrace import Workload, default_workload
    from foldrace.testing import SlowClassifier


    def make():
        base = default_workload(n_samples=300)
        started = str(Path(__file__).with_name("started"))  # a line per stuck task started
        stuck = SlowClassifier(1.0, spare_pid=os.getpid(), stamp_file=started)  # 200 s a fold
        return Workload(base.X, base.y, {"m": stuck}, folds=base.folds)
    """
)


class Run:
    """A ``foldrace run`` process in a session of its own, its stderr read as it comes."""

    def __init__(self, tmp_path: Path, *options: str, cwd: Path | None = None) -> None:
        self.out = tmp_path / "out"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "foldrace",
                "run",
                "--progress",
                "--out",
                str(self.out),
                *options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            cwd=cwd,
            preexec_fn=default_ctrl_c,
            env=dict(os.environ, PYTHONFAULTHANDLER="1"),  # SIGABRT prints every stack
        )
        self._err: list[str] = []
        self._reader = threading.Thread(
            target=lambda: self._err.extend(iter(lambda: self.process.stderr.read(1), "")),
            daemon=True,
        )
        self._reader.start()

    @property
    def err(self) -> str:
        return "".join(self._err)

    def wait_for(self, pattern: str, within: float = 120.0) -> None:
        """Wait until stderr matches ``pattern`` (a regular expression)."""
        deadline = time.monotonic() + within
        while not re.search(pattern, self.err):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"never saw {pattern!r}; stderr:\n{self.err}")
            time.sleep(0.05)

    def runs_done(self, n: int, within: float = 120.0) -> None:
        """Wait until the progress bar shows at least ``n`` runs done."""
        deadline = time.monotonic() + within
        while max(map(int, re.findall(r"(\d+)/\d+ \[", self.err)), default=0) < n:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"never saw {n} runs done; stderr:\n{self.err}")
            time.sleep(0.05)

    def pool_running(self, within: float = 120.0) -> None:
        """Wait until the run has worker processes (two children or more)."""
        deadline = time.monotonic() + within
        while len(child_pids(self.process.pid)) < 2:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"never saw a pool start; stderr:\n{self.err}")
            time.sleep(0.02)

    def tasks_started(self, path: Path, n: int, within: float = 120.0) -> None:
        """Wait until ``path`` (a stamp file) has at least ``n`` lines: ``n`` tasks running."""
        deadline = time.monotonic() + within
        while len(path.read_text().splitlines() if path.exists() else []) < n:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"never saw {n} tasks start; stderr:\n{self.err}")
            time.sleep(0.05)

    def signal(self, signum: int, group: bool = False) -> None:
        if group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)

    def finish(self, guard: float = HANG_GUARD) -> tuple[int, str]:
        """Wait for the exit (failing on a hang); return the exit code and stderr."""
        try:
            self.process.wait(timeout=guard)
        except subprocess.TimeoutExpired:
            dump_stacks(self.process.pid)
            self.kill()
            pytest.fail(f"foldrace run did not end within {guard:g} s; stderr:\n{self.err}")
        self._reader.join(timeout=10)
        return self.process.returncode, self.err

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def saved(self) -> dict:
        """The results the stopped run saved, in its own folder; ``latest`` never points there."""
        (folder,) = self.out.glob("run-*")
        assert not (self.out / "latest").exists()
        assert not [p for p in self.out.rglob("*") if p.name.endswith(".tmp")]
        return json.loads((folder / "results.json").read_text())

    def left_behind(self) -> list[str]:
        """Processes of the run's session still there after a grace period (none, we hope)."""
        # loky's resource tracker exits once its pipe closes, soon after the run
        deadline = time.monotonic() + HANG_GUARD
        while True:
            found = session_processes(self.process.pid)
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.2)


def _shm(pid: int) -> set[str]:
    """Shared-memory entries that name process ``pid`` (loky's and joblib's do)."""
    if not SHM.is_dir():
        return set()
    return {p.name for p in SHM.iterdir() if re.search(rf"\D{pid}\D", p.name)}


STOPS = [
    ("SIGINT", "starmap", False),
    ("SIGTERM", "starmap", False),
    ("SIGTERM", "submit", False),
    ("SIGTERM", "joblib", False),
    ("SIGTERM", "starmap", True),
    ("SIGHUP", "submit", True),
    ("SIGTERM", "apply_async/thread", False),
]


@pytest.mark.parametrize(("name", "executor", "group"), STOPS)
def test_a_stop_signal_stops_the_pool_saves_and_exits_with_its_code(
    tmp_path, name, executor, group
):
    signum = getattr(signal, name)
    options = ["--executors", executor, "--workers", "2", "--repeats", "8", "--samples", "2000"]
    run = Run(tmp_path, *options)
    # the warm-up round and two timed ones done, and the executor's pool now running
    run.wait_for(rf"\b([6-9]|\d\d+)/\d+ \[[^\]\r\n]*\b{re.escape(executor)}, 2 workers")
    if not executor.endswith("/thread"):
        run.pool_running()  # and its worker processes are up
    run.signal(signum, group=group)
    code, err = run.finish()
    assert code == 128 + signum, err
    assert "Traceback" not in err
    assert "BrokenPipeError" not in err
    stopped = "interrupted" if signum == signal.SIGINT else f"stopped by {name}"
    assert f"foldrace run: {stopped}; the " in err
    data = run.saved()
    assert data["meta"]["complete"] is False
    assert any(row["executor"] == executor for row in data["timings"])
    assert run.left_behind() == []
    assert _shm(run.process.pid) == set()


def test_two_ctrl_c_50_ms_apart_lose_nothing_and_print_no_traceback(tmp_path):
    for attempt in range(5):
        options = ["--workers", "1", "2", "--repeats", "3", "--samples", "2000"]
        run = Run(tmp_path / str(attempt), *options)
        run.runs_done(10)  # rounds of 9 runs (serial, five strategies on 1 and 2 workers)
        run.pool_running()
        run.signal(signal.SIGINT)
        time.sleep(0.05)
        run.signal(signal.SIGINT)
        code, err = run.finish()
        assert code == 130, err
        assert "Traceback" not in err
        assert "KeyboardInterrupt" not in err
        assert run.saved()["meta"]["complete"] is False
        assert run.left_behind() == []


@pytest.mark.parametrize("executor", THREADS)
def test_a_task_stuck_past_the_timeout_on_threads_ends_the_program(tmp_path, executor):
    (tmp_path / "stuck.py").write_text(STUCK)
    options = ["--workload", "stuck:make", "--executors", executor, "--workers", "2"]
    run = Run(tmp_path, *options, "--repeats", "1", "--timeout", "1", cwd=tmp_path)
    code, err = run.finish()
    assert code == 1, err
    assert f"executor '{executor}' (workers=2) failed" in err
    assert "after the 1 s timeout" in err
    assert "still running a task" in err  # says what happens to the stuck threads
    assert "Traceback" not in err


def test_from_python_a_stuck_thread_does_not_hold_the_interpreter_exit(tmp_path):
    (tmp_path / "stuck.py").write_text(STUCK)
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import foldrace, stuck

            for executor in {THREADS!r}:
                try:
                    foldrace.race(stuck.make(), [executor], [2], repeats=1, timeout=1)
                except foldrace.RaceError as error:
                    print(error)
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=HANG_GUARD + 10 * len(THREADS),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("after the 1 s timeout") == len(THREADS)


def test_ctrl_c_waits_for_running_threads_and_a_second_leaves_them(tmp_path):
    (tmp_path / "stuck.py").write_text(STUCK)
    options = ["--workload", "stuck:make", "--executors", "submit/thread", "--workers", "2"]
    run = Run(tmp_path, *options, "--repeats", "1", cwd=tmp_path)  # default deadline: 60 s
    run.tasks_started(tmp_path / "started", 2)  # both worker threads hold a stuck task
    run.signal(signal.SIGINT)
    run.wait_for("waiting for 2 running thread tasks")
    run.signal(signal.SIGINT)
    code, err = run.finish()  # the hang guard is half the default deadline
    assert code == 130, err
    assert "2 worker threads still running a task" in err
    assert "Traceback" not in err
    assert run.saved()["meta"]["complete"] is False


THREAD_ABORT = textwrap.dedent(
    """
    import os
    import sys

    import foldrace
    from foldrace.testing import FailingClassifier, uneven_folds

    base = foldrace.default_workload(n_samples=3000, n_features=40)
    folds = uneven_folds(3000, train_sizes=(1000, 2900, 2900), test_size=100)
    codes = []
    for attempt in range(int(sys.argv[2])):
        pid = os.fork()
        if pid == 0:  # a fresh program's end, from a copy with everything imported
            failing = FailingClassifier(fail_below=1100, spare_pid=os.getpid())
            workload = foldrace.Workload(base.X, base.y, {"m": failing}, folds=folds)
            try:
                foldrace.race(workload, [sys.argv[1]], [2], repeats=1, warmup=0)
            except foldrace.RaceError as error:
                print(error, flush=True)
            sys.exit(0)
        codes.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    print("codes", *codes)
    """
)


ATTEMPTS = 12
"""Programs per thread strategy that end right after a failed race (seven strategies)."""


@pytest.mark.parametrize("executor", THREADS)
def test_a_failed_race_on_threads_never_aborts_the_program_at_exit(tmp_path, executor):
    # Fold 0 fails at once while folds 1 and 2 fit liblinear in native code: a pool that
    # returned without waiting for them let the interpreter end under them (SIGABRT).
    script = tmp_path / "abort.py"
    script.write_text(THREAD_ABORT)
    done = subprocess.run(
        [sys.executable, str(script), executor, str(ATTEMPTS)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "terminate called" not in done.stderr
    codes = done.stdout.split("codes")[-1].split()
    assert codes == ["0"] * ATTEMPTS, done.stderr
    assert done.stdout.count("fold 0, model 'm': ValueError") == ATTEMPTS


def test_without_a_blas_limit_fork_gives_way_to_forkserver(small_workload):
    with pytest.warns(RuntimeWarning, match="forkserver instead of fork"):
        result = race(small_workload, ["starmap"], [2], repeats=1, blas_threads=None)
    assert result.executors == ["serial", "starmap/forkserver"]
    assert result.check().identical
    with pytest.raises(InputError, match="fork cannot be used without a BLAS/OpenMP"):
        race(small_workload, ["starmap"], [2], repeats=1, blas_threads=None, start_method="fork")


def test_a_deadlocked_worker_ends_as_a_timeout_at_the_default_deadline(small_workload, monkeypatch):
    # Alive and stuck, as a worker deadlocked on a lock: no dead-worker watch can see it.
    import foldrace.harness
    from foldrace import Workload
    from foldrace.testing import SlowClassifier

    monkeypatch.setattr(foldrace.harness, "DEFAULT_TIMEOUT_FLOOR", 1.0)
    stuck = SlowClassifier(seconds_per_sample=1.0, spare_pid=os.getpid())
    workload = Workload(small_workload.X, small_workload.y, {"m": stuck})
    with pytest.raises(RaceError, match="the default deadline") as info:
        race(workload, ["starmap"], [2], repeats=1, warmup=0)
    assert "after the 1 s timeout" in str(info.value)

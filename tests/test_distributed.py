"""Dask distributed, for real: a scheduler and workers started as processes on 127.0.0.1.

The module fixture starts ``dask scheduler`` and two ``dask worker`` processes on free
ports and stops them all afterwards; other tests let foldrace start its own LocalCluster.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import extra
from foldrace import InputError, RaceError, TaskTimeoutError, Workload, race
from foldrace.clusters import import_extra, open_cluster
from foldrace.executors import cluster_specs
from foldrace.testing import CrashingClassifier, uneven_folds
from ray_race import interrupt_while_starting

distributed = extra("distributed", "dask")

DASK = Path(sys.executable).with_name("dask")
DASK_LABELS = [spec.label for spec in cluster_specs(("dask",))]
IMPORT_BLOCKER = (
    "import sys; sys.modules['foldrace'] = None; "
    "from distributed.cli.dask_scheduler import main; main()"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_cluster(scheduler: list[str], workers: int) -> tuple[str, list[subprocess.Popen]]:
    """Start a scheduler command and ``workers`` single-threaded workers; wait for them."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [
        subprocess.Popen(
            [*scheduler, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet
        )
    ]
    for _ in range(workers):
        processes.append(
            subprocess.Popen(
                [str(DASK), "worker", address, "--nthreads", "1", "--no-dashboard",
                 "--host", "127.0.0.1", "--death-timeout", "60"],
                **quiet,
            )
        )  # fmt: skip
    if not _wait_for_workers(address, workers):
        _stop(processes)
        raise RuntimeError("the Dask cluster did not start")
    return address, processes


def _wait_for_workers(address: str, workers: int) -> bool:
    """Whether ``workers`` workers joined the scheduler at ``address`` within 90 s."""
    deadline = time.monotonic() + 90  # a hang guard
    while time.monotonic() < deadline:
        try:
            with distributed.Client(address, timeout="2s") as client:
                if len(client.scheduler_info(n_workers=-1)["workers"]) >= workers:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in reversed(processes):
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def dask_cluster():
    """A real scheduler and two workers on 127.0.0.1, stopped after the module."""
    address, processes = _start_cluster([str(DASK), "scheduler"], workers=2)
    yield address
    _stop(processes)


def test_every_dask_executor_gives_the_serial_scores_on_a_real_cluster(
    small_workload, dask_cluster
):
    result = race(
        small_workload, DASK_LABELS, [1, 2], repeats=1, warmup=0,
        data_passing=["task", "shared"], dask_scheduler=dask_cluster,
    )  # fmt: skip
    assert result.check().identical
    assert set(result.timings["executor"]) == {"serial"} | {
        f"{label}{mode}" for label in DASK_LABELS for mode in ("", "/shared")
    }
    cluster = result.meta["clusters"]["dask"]
    assert cluster == {**cluster, "address": dask_cluster, "embedded": False, "workers": 2}
    tasks = result.tasks[result.tasks["executor"] == "dask_submit"]
    assert len(set(tasks[tasks["workers"] == 2]["pid"])) == 2  # both workers worked
    assert os.getpid() not in set(tasks["pid"])


@pytest.mark.parametrize("label", DASK_LABELS)
def test_a_thread_limit_holds_in_every_dask_task_and_none_keeps_the_workers_own(
    dask_cluster, label
):
    from foldrace.executors import parse_spec
    from foldrace.testing import inner_threads

    seen = {}
    for threads in (2, None, 1):
        with parse_spec(label).build(2, blas_threads=threads, address=dask_cluster) as executor:
            seen[threads] = executor.run(inner_threads, range(4))
    assert seen[2] == [2] * 4
    assert seen[1] == [1] * 4
    assert seen[None] == [1] * 4  # a Dask nanny starts its worker with one thread
    with distributed.Client(dask_cluster) as client:  # the tasks keep their function's name
        prefixes = client.run_on_scheduler(
            lambda dask_scheduler: list(dask_scheduler.task_prefixes)
        )
    assert any("inner_threads" in prefix for prefix in prefixes), prefixes
    assert not any("ThreadLimited" in p or "call_with" in p for p in prefixes), prefixes


def test_more_workers_than_the_cluster_has_is_an_error(small_workload, dask_cluster):
    with pytest.raises(RaceError, match="has 2 workers, fewer than the 3 asked for"):
        race(small_workload, ["dask_submit"], [3], repeats=1, warmup=0,
             dask_scheduler=dask_cluster)  # fmt: skip


def _killer_workload(small_workload: Workload) -> Workload:
    """Fold 0's fit kills its worker (SIGKILL) every time; the other folds are healthy."""
    folds = uneven_folds(len(small_workload.y), train_sizes=(40, 240, 120), test_size=20)
    killer = CrashingClassifier(41, "kill", 0.0, spare_pid=os.getpid())
    return Workload(small_workload.X, small_workload.y, {"m": killer}, folds=folds)


@pytest.mark.parametrize("label", ["submit/dask", "dask_submit", "dask_map"])
def test_a_killed_worker_is_retried_then_reported_naming_the_executor(
    small_workload, dask_cluster, label
):
    workload = _killer_workload(small_workload)
    with pytest.raises(RaceError) as info:
        race(workload, [label], [2], repeats=1, warmup=0, dask_scheduler=dask_cluster)
    _wait_for_workers(dask_cluster, 2)  # restarted by the nannies, for the tests after
    assert info.value.executor == label
    message = str(info.value)
    assert "KilledWorker" in message  # the nannies restarted the workers, Dask retried
    assert "on 4 different workers" in message  # 1 try + distributed's 3 allowed failures
    # reported by Dask's retries, not by foldrace's default deadline after a stuck retry loop
    assert not isinstance(info.value.__cause__, TaskTimeoutError)
    assert "default deadline" not in message


def test_joblib_on_dask_does_not_report_a_killed_worker_but_the_race_still_ends(
    small_workload, dask_cluster
):
    """joblib's Dask backend (joblib 1.6) sets Dask's KilledWorker on its own future without
    calling Parallel's completion callback, which waits on: the run's deadline ends it, or,
    now and then, Dask forgets the task first (FutureCancelledError). Either way the race
    ends naming the executor; should joblib start reporting the death, this test fails."""
    workload = _killer_workload(small_workload)
    with pytest.raises(RaceError) as info:
        race(workload, ["joblib/dask"], [2], repeats=1, warmup=0, timeout=20,
             dask_scheduler=dask_cluster)  # fmt: skip
    _wait_for_workers(dask_cluster, 2)
    assert info.value.executor == "joblib/dask"
    message = str(info.value)
    assert "KilledWorker" not in message
    timed_out = isinstance(info.value.__cause__, TaskTimeoutError)
    assert timed_out or "FutureCancelledError" in message, message


def test_an_embedded_local_cluster_is_started_and_stopped(small_workload):
    result = race(small_workload, ["submit/dask"], [2], repeats=1, warmup=0)
    assert result.check().identical
    cluster = result.meta["clusters"]["dask"]
    assert cluster["embedded"] is True
    assert cluster["address"].startswith("tcp://127.0.0.1:")
    assert cluster["start_s"] > 0
    with (
        pytest.raises(OSError, match=r"Timed out|connect"),
        distributed.Client(cluster["address"], timeout="1s"),
    ):
        pass  # stopped: nothing listens there any more


def test_a_scheduler_that_cannot_import_foldrace_gives_a_clear_error(small_workload):
    address, processes = _start_cluster([sys.executable, "-c", IMPORT_BLOCKER], workers=1)
    try:
        with pytest.raises(RaceError, match="must be importable where the scheduler runs"):
            race(small_workload, ["dask_submit"], [1], repeats=1, warmup=0,
                 dask_scheduler=address)  # fmt: skip
    finally:
        _stop(processes)


@pytest.mark.parametrize(("kind", "module"), [("dask", "distributed"), ("ray", "ray")])
def test_a_missing_extra_is_named(monkeypatch, small_workload, kind, module):
    monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    with pytest.raises(InputError, match=rf'pip install "foldrace\[{kind}\]"'):
        import_extra(kind)
    label = "dask_submit" if kind == "dask" else "map/ray"
    with pytest.raises(InputError, match=rf"foldrace\[{kind}\]"):
        race(small_workload, [label], [1], repeats=1, warmup=0)


def test_an_unreachable_scheduler_is_an_input_error():
    unreachable = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):  # noqa: SIM117
        with open_cluster("dask", 1, unreachable):
            pass


def _run_command(*options: str, out: Path) -> list[str]:
    """``python -m foldrace run`` with one worker, one repeat, no plot, quiet."""
    return [sys.executable, "-m", "foldrace", "run", *options, "--workers", "1",
            "--repeats", "1", "--quiet", "--no-plot", "--out", str(out)]  # fmt: skip


def test_an_unreachable_scheduler_is_one_line_on_the_command_line(tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"
    command = _run_command("--executors", "submit/dask", "--scheduler", address, out=tmp_path)
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    assert f"cannot reach the Dask scheduler at {address}" in lines[0]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("delay", [0.0, 0.5, 1.0])
def test_ctrl_c_while_the_local_cluster_starts_exits_130_in_one_line(tmp_path, delay):
    command = _run_command("--executors", "submit/dask", out=tmp_path)
    outcome = interrupt_while_starting(command, delay, started="python")
    assert outcome["returncode"] == 130, outcome
    assert len(outcome["stderr"]) == 1, outcome
    assert "interrupted" in outcome["stderr"][0]
    assert outcome["left"] == [], outcome  # the cluster's processes are gone too


def _listening_ports(pids: set[int]) -> dict[int, str]:
    """TCP ports these processes listen on, with their addresses."""
    psutil = pytest.importorskip("psutil")
    ports = {}
    for pid in pids:
        for conn in psutil.Process(pid).net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN:
                ports[conn.laddr.port] = conn.laddr.ip
    return ports


def test_the_local_cluster_listens_on_loopback_and_serves_no_http():
    psutil = pytest.importorskip("psutil")
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    own = set(_listening_ports({me.pid}))
    with open_cluster("dask", 1) as cluster:
        scheduler = cluster._handle.scheduler
        pids = {me.pid} | {p.pid for p in me.children(recursive=True)} - before
        ports = {port: ip for port, ip in _listening_ports(pids).items() if port not in own}
        comms = [cluster.address, *scheduler.workers]
        comms += [worker.nanny for worker in scheduler.workers.values()]
        expected = {int(address.rsplit(":", 1)[1]) for address in comms}
    assert set(ports.values()) == {"127.0.0.1"}
    assert set(ports) == expected  # Dask's own connections only: no HTTP server, no 8787
    assert scheduler.http_server._stopped


def _try_it_commands() -> list[str]:
    """The bash lines of tutorial 12's Try it, as the page shows them."""
    page = (Path(__file__).resolve().parents[1] / "docs/tutorials/12-scaling-out.md").read_text()
    block = page.split("## Try it", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("   #")[0].strip() for line in block.strip().splitlines()]


def test_tutorial_12_try_it_runs_as_written_and_every_process_keeps_to_loopback(tmp_path):
    import json

    import psutil

    scheduler, worker, worker_again, run, stop = _try_it_commands()
    assert worker == worker_again
    assert stop.startswith("kill ")
    ports = {"8786": str(_free_port()), "8787": str(_free_port())}
    for old, new in ports.items():
        scheduler, worker, run = (text.replace(old, new) for text in (scheduler, worker, run))
    started = [
        subprocess.Popen(
            [str(DASK), *command.removesuffix(" &").split()[1:]],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in (scheduler, worker, worker)
    ]
    try:
        address = f"tcp://127.0.0.1:{ports['8786']}"
        assert _wait_for_workers(address, 2)
        listening = [
            connection.laddr
            for process in started
            for each in [psutil.Process(process.pid), *psutil.Process(process.pid).children(True)]
            for connection in each.net_connections(kind="inet")
            if connection.status == psutil.CONN_LISTEN
        ]
        assert len(listening) >= 5  # scheduler, its HTTP server, two nannies, two workers
        assert {where.ip for where in listening} == {"127.0.0.1"}, listening
        small = ["--samples", "300", "--repeats", "1", "--out", str(tmp_path)]
        done = subprocess.run(
            [sys.executable, "-m", "foldrace", *run.split()[1:], *small],
            capture_output=True,
            text=True,
            timeout=280,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        meta = json.loads((tmp_path / "latest" / "results.json").read_text())["meta"]
        (cluster,) = meta["clusters"].values()
        assert cluster["embedded"] is False  # joined, not started: start_s is the join
        assert cluster["address"] == address
    finally:
        _stop(started)

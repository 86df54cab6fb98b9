"""Shared fixtures: workloads small enough to race in seconds."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sklearn.model_selection import KFold
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

from foldrace import Workload, default_workload

REQUIRE_EXTRAS = os.environ.get("FOLDRACE_REQUIRE_EXTRAS") == "1"
"""CI installs every extra and sets this: a missing one fails its tests instead of skipping."""


def extra(module: str, name: str) -> ModuleType:
    """Import ``module``, which the extra ``name`` installs; skip the calling test (or test
    module) with the reason where it is missing, or fail under ``FOLDRACE_REQUIRE_EXTRAS=1``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        install = f'pip install -e ".[{name}]"'
        if REQUIRE_EXTRAS:
            pytest.fail(f"{module} is required here: {install}")
        pytest.skip(f"the {name} extra is not installed ({install})", allow_module_level=True)


# The seed workload's averaged ROC-AUC, as measured on the blog's set-up (RF seed 0).
SEED_SCORES = {"logit": 0.8680219101512723, "rf": 0.905368254904951}


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C and SIGHUP as a terminal's program gets them, however the run was started.

    A shell starts a background job (``cmd &``) with SIGINT ignored, ``nohup`` ignores
    SIGHUP, and every process started from there inherits that; foldrace then leaves those
    signals alone, as it should, and the tests of what they do could not run. The programs
    these tests start get the defaults from here too.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if hasattr(signal, "SIGHUP") and signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
    # Run by pytest-xdist, this process is one of its workers, and says so in its
    # environment; a `pytest benchmarks` that a test starts would inherit that and turn
    # pytest-benchmark off ("xdist plugin is active").
    for name in [name for name in os.environ if name.startswith("PYTEST_XDIST_")]:
        del os.environ[name]


SLOWEST_FILES = (
    "test_tutorials.py",
    "test_signals.py",
    "test_ray.py",
    "test_faults.py",
    "test_executors.py",
    "test_distributed.py",
    "test_cli.py",
)
"""The test files that take longest (2 to 4 minutes each, measured), longest first."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest first, the lesson of tutorial 13: the README's command hands whole files to
    two processes (pytest-xdist, ``--dist loadfile``) in this order, so that a long file
    does not start last while the other process idles.

    Only then: the mutation run orders its tests fastest first, so that a mutant dies on
    the quickest test that can kill it, and this order would undo that.
    """
    if config.getoption("dist", "no") == "no" and not hasattr(config, "workerinput"):
        return
    rank = {name: place for place, name in enumerate(SLOWEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOWEST_FILES)))


@pytest.fixture(scope="session")
def seed_workload() -> Workload:
    """The default (blog) workload: 1000 samples, 3 folds, logit + rf."""
    return default_workload()


@pytest.fixture(scope="session")
def small_workload() -> Workload:
    """The default workload at 300 samples: same shape of work, a fraction of the time."""
    return default_workload(n_samples=300)


@pytest.fixture(scope="session")
def custom_workload() -> Workload:
    """Other estimators and another splitter than the defaults."""
    base = default_workload(n_samples=400, n_features=8, seed=7)
    return Workload(
        base.X,
        base.y,
        {"tree": DecisionTreeClassifier(max_depth=4, random_state=0), "nb": GaussianNB()},
        folds=KFold(n_splits=4, shuffle=True, random_state=1),
        name="custom",
    )


def foldrace_command(
    *arguments: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``python -m foldrace ARGUMENTS``, its output captured; ended by a hang guard."""
    return subprocess.run(
        [sys.executable, "-m", "foldrace", *arguments],
        capture_output=True,
        text=True,
        timeout=280,  # a hang guard, below pytest's own 300 s
        cwd=cwd,
        env=env,
    )


def load_script(path: Path, name: str) -> ModuleType:
    """Import the file at ``path`` (a script, not part of a package) as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LEFT_BEHIND = """\
import os, pathlib
_me = f"/proc/{os.getpid()}/task"
_kids = [c for t in os.listdir(_me) for c in pathlib.Path(_me, t, "children").read_text().split()]
_helpers = ("resource_tracker", "forkserver", "loky")  # kept for the kernel's life, by design
print([c for c in (pathlib.Path(f"/proc/{k}/cmdline").read_bytes().replace(b"\\0", b" ").decode()
       for k in _kids) if not any(h in c for h in _helpers)])
"""
"""A last cell: the command lines of the kernel's child processes, Python's and joblib's
long-lived helpers aside (zombies show as empty strings)."""


def printed(cell: Any) -> str:
    """What a notebook cell printed on standard output. Warnings, on standard error, are left
    out, wherever the kernel put them among the outputs: a busy machine makes a race warn
    that its cells look disturbed, and which stream reaches the notebook first varies."""
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


def warned(cell: Any) -> str:
    """What a notebook cell wrote on standard error: warnings, and a text progress bar."""
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stderr")


def execute_notebook(notebook: Any, cwd: Path) -> None:
    """Run every cell of ``notebook`` in a fresh Python kernel (ipykernel) started in ``cwd``.

    A cell that raises fails the test with the kernel's traceback. After the last cell, the
    kernel may have no child process left but the helpers Python and joblib keep for its
    life (the resource tracker, a fork server, joblib's reusable workers); and once it has
    shut down, no process it started may remain in its session, outside the process group
    that jupyter_client kills at shutdown.
    """
    import nbformat
    from nbclient import NotebookClient

    notebook.cells.append(nbformat.v4.new_code_cell(LEFT_BEHIND))
    client = NotebookClient(
        notebook, timeout=280, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    kernels: list[int] = []
    client.on_notebook_start = lambda **_: kernels.append(client.km.provisioner.pid)
    client.execute()
    check = printed(notebook.cells.pop())
    assert check.strip() == "[]", f"left running: {check}"
    (kernel,) = kernels
    deadline = time.monotonic() + 30  # a hang guard: the kernel has been asked to shut down
    while session_processes(kernel) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert session_processes(kernel) == [], "the notebook's kernel left processes behind"


def child_pids(pid: int) -> list[int]:
    """Child process ids of process ``pid``, started by any of its threads (Linux /proc)."""
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
        except FileNotFoundError:  # a thread that has just ended
            continue
    return found


def session_processes(sid: int) -> list[str]:
    """``pid (name) state`` of every process in session ``sid`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") :].rsplit(")", 1)
        fields = rest.split()
        if int(fields[3]) == sid:  # state ppid pgrp session ...
            found.append(f"{entry} {name}) {fields[0]}")
    return found


def dump_stacks(sid: int) -> None:
    """Send SIGABRT to every process in session ``sid``, then give them time to print.

    Started with ``PYTHONFAULTHANDLER=1``, each prints the Python stack of every thread to
    its stderr and ends: what a hung program was doing, in the test's failure message.
    """
    for entry in session_processes(sid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(entry.split()[0]), signal.SIGABRT)
    time.sleep(3)


def default_ctrl_c() -> None:
    """In a child about to run a program: Ctrl-C back to its default.

    A shell starts background jobs with SIGINT ignored, and an ignored signal stays ignored
    across ``exec``; Python then leaves Ctrl-C alone, as it should. A test that sends Ctrl-C
    to a program it started must not depend on how the test run itself was started.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _zombies() -> list[int]:
    """Child processes of this one that exited but were never reaped (Linux only)."""
    try:
        mine = child_pids(os.getpid())
    except FileNotFoundError:  # no /proc
        return []
    zombies = []
    for child in mine:
        try:
            with open(f"/proc/{child}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    zombies.append(child)
        except FileNotFoundError:
            pass
    return zombies


@pytest.fixture(autouse=True)
def _no_orphans():
    """Every test must leave no worker process behind, running or as a zombie."""
    yield
    assert multiprocessing.active_children() == []
    assert _zombies() == []

"""The exceptions foldrace raises, one class per kind of failure.

``InputError`` is a problem with what the user asked for (the CLI turns it into a one-line
message and exit code 2). ``FoldTaskError`` is raised inside a worker when a model fails on
a fold. ``RaceError`` is what the harness raises when an executor fails: it names the
executor, the worker count and, where known, the fold, with the original error chained.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # foldrace.results imports this module
    from foldrace.results import RaceResult

__all__ = [
    "FoldTaskError",
    "FoldraceError",
    "InputError",
    "RaceError",
    "RaceInterrupted",
    "TaskTimeoutError",
    "WorkerDiedError",
    "one_line",
]


def one_line(exc: BaseException) -> str:
    """``"ExceptionType: message"`` on one line, for an error message that quotes ``exc``."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class FoldraceError(Exception):
    """Base class of every error foldrace raises on purpose."""


class InputError(FoldraceError, ValueError):
    """Bad input: an argument, a workload or a file that foldrace cannot use."""


class FoldTaskError(FoldraceError):
    """A model failed while fitting or scoring one fold.

    Raised in the worker, so it must survive pickling: every attribute is passed to
    ``Exception.__init__`` and rebuilt from ``args``.

    Parameters
    ----------
    fold : int
        The fold whose task failed.
    model : str
        The name of the model that failed.
    reason : str
        ``"ExceptionType: message"`` of the original error.
    worker_traceback : str
        The original error's traceback, formatted where it happened (in the worker), so it
        survives the trip back to the parent process.
    """

    def __init__(self, fold: int, model: str, reason: str, worker_traceback: str = "") -> None:
        super().__init__(fold, model, reason, worker_traceback)
        self.fold = fold
        self.model = model
        self.reason = reason
        self.worker_traceback = worker_traceback

    def __str__(self) -> str:
        return f"fold {self.fold}, model {self.model!r}: {self.reason}"


class RaceError(FoldraceError):
    """An executor failed during a race.

    Parameters
    ----------
    executor : str
        Registry name of the executor that failed.
    workers : int
        Its worker count.
    reason : str
        What went wrong, including the fold and model where they are known.
    fold : int or None
        The failing fold, where known.
    """

    def __init__(self, executor: str, workers: int, reason: str, fold: int | None = None) -> None:
        super().__init__(executor, workers, reason, fold)
        self.executor = executor
        self.workers = workers
        self.reason = reason
        self.fold = fold

    def __str__(self) -> str:
        return f"executor {self.executor!r} (workers={self.workers}) failed: {self.reason}"


class WorkerDiedError(FoldraceError):
    """A worker process exited while tasks were still running.

    The stdlib pool replaces a dead worker and waits forever for the task it held;
    foldrace's pool executors watch their workers and raise this instead.

    Parameters
    ----------
    pid : int or None
        Process id of the dead worker, None where the pool does not say.
    exitcode : int
        Its exit code (negative: killed by that signal).
    pending : tuple of int
        Indices of the tasks not finished when the death was noticed, where known.
    """

    def __init__(self, pid: int | None, exitcode: int, pending: tuple[int, ...] = ()) -> None:
        super().__init__(pid, exitcode, pending)
        self.pid = pid
        self.exitcode = exitcode
        self.pending = pending

    def __str__(self) -> str:
        how = (
            f"killed by signal {-self.exitcode}"
            if self.exitcode < 0
            else f"exit code {self.exitcode}"
        )
        who = "a worker process" if self.pid is None else f"worker process {self.pid}"
        return f"{who} died ({how}) while tasks were running"


class TaskTimeoutError(FoldraceError, TimeoutError):
    """An executor's run went past its ``timeout``.

    Parameters
    ----------
    timeout : float
        The limit, in seconds, for one run of the executor.
    """

    def __init__(self, timeout: float) -> None:
        super().__init__(timeout)
        self.timeout = timeout

    def __str__(self) -> str:
        return f"tasks still running after the {self.timeout:g} s timeout"


class RaceInterrupted(KeyboardInterrupt):
    """A race stopped by Ctrl-C (SIGINT); :attr:`result` holds the runs measured so far.

    A ``KeyboardInterrupt``, so code that does not know foldrace still stops. The result's
    ``meta["complete"]`` is False.
    """

    def __init__(self, result: RaceResult) -> None:
        super().__init__("race interrupted")
        self.result = result

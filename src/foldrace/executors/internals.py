"""Private attributes of other libraries that foldrace relies on, all in this one module.

Each function reaches into one library's internals where its public API offers no way to
do the job, says which versions it was checked on, and names the public alternative where
one exists (and uses it where it is available).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Iterable
from multiprocessing import shared_memory
from typing import Any

__all__ = [
    "ReusableLokyAside",
    "attach_untracked",
    "executor_processes",
    "fork_server_running",
    "kill_executor_workers",
    "map_failure",
    "pool_processes",
    "release_at_exit",
    "terminate_pool",
]


def release_at_exit(threads: Iterable[threading.Thread]) -> None:
    """Let the interpreter exit without joining these ``ThreadPoolExecutor`` workers.

    ``concurrent.futures.thread`` registers an exit hook that joins every worker thread
    listed in its module-level ``_threads_queues`` (checked on CPython 3.11 to 3.14); a
    task stuck forever would hold the interpreter's exit forever. There is no public way
    to leave a running worker thread behind.
    """
    from concurrent.futures import thread as futures_thread

    queues = getattr(futures_thread, "_threads_queues", None)
    if queues is None:
        return
    with getattr(futures_thread, "_global_shutdown_lock", threading.Lock()):
        for thread in threads:
            queues.pop(thread, None)


def fork_server_running() -> bool:
    """Whether this process has started multiprocessing's fork server.

    CPython 3.11 to 3.14: ``multiprocessing.forkserver._forkserver._forkserver_pid``. No
    public alternative: ``ensure_running()`` starts one, it cannot say whether one runs.
    """
    from multiprocessing import forkserver

    return getattr(forkserver._forkserver, "_forkserver_pid", None) is not None


def pool_processes(pool: Any) -> list[Any]:
    """The worker processes of a ``multiprocessing.Pool``.

    ``Pool._pool`` lists them (CPython 3.11 to 3.14); the public API offers no way to
    watch a pool's workers, which is how a worker that died mid-task goes unnoticed.
    """
    return [p for p in getattr(pool, "_pool", ()) if hasattr(p, "exitcode")]


def executor_processes(executor: Any) -> list[Any]:
    """The worker processes of a ``ProcessPoolExecutor`` started so far.

    ``ProcessPoolExecutor._processes`` (a dict by pid, CPython 3.11 to 3.14); no public
    alternative.
    """
    return list((getattr(executor, "_processes", None) or {}).values())


def kill_executor_workers(executor: Any, processes: Iterable[Any]) -> None:
    """SIGKILL every worker of a ``ProcessPoolExecutor``.

    Public from Python 3.14 on: ``ProcessPoolExecutor.kill_workers()``, used where it
    exists; before, the workers come from :func:`executor_processes`.
    """
    kill = getattr(executor, "kill_workers", None)
    if kill is not None:
        with contextlib.suppress(Exception):
            kill()
    for process in dict.fromkeys([*processes, *executor_processes(executor)]):
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)


def map_failure(result: Any) -> BaseException | None:
    """The first failure of a pending ``Pool.map_async``/``starmap_async`` result, if any.

    CPython's ``MapResult`` becomes ready only once every chunk is back, even after one
    has failed; it records the first failure in ``_success`` and ``_value`` (CPython 3.11
    to 3.14). Reading them raises a failure at once. The public alternative, waiting for
    ``ready()``, reports it only after every other chunk.
    """
    if getattr(result, "_success", True) is False:
        value = getattr(result, "_value", None)
        return value if isinstance(value, BaseException) else RuntimeError(repr(value))
    return None


def terminate_pool(pool: Any, processes: Iterable[Any]) -> None:
    """``Pool.terminate()`` that cannot hang on workers killed from outside.

    A worker killed while it waits for its next task (a signal sent to the whole process
    group, the out-of-memory killer) dies holding the task queue's read lock
    (``pool._inqueue._rlock``), and one killed while it sends a result dies holding the
    result queue's write lock (``pool._outqueue._wlock``); ``Pool.terminate()`` then blocks
    forever acquiring one of them. Meanwhile the pool's worker-handler thread forks
    replacements, which wait on those locks too. A worker killed while it reads a task
    larger than a pipe (the data, sent with every task) leaves the rest of that task in the
    pipe, which ``Pool.terminate()`` then reads as messages (``Pool._help_stuff_finish``,
    while the task-handler thread lives): it takes the middle of the task for a length and
    waits forever for bytes that never come. So, in order (CPython 3.11 to 3.14, no public
    alternative): stop the worker handler (``_worker_handler``, ``_change_notifier``), kill
    and reap every worker, free both locks (plain semaphores, which any process may
    release), stop the task handler (``_task_handler``), reading the task pipe as raw bytes
    until it has, then terminate.
    """
    from multiprocessing.pool import TERMINATE

    handler = getattr(pool, "_worker_handler", None)
    notifier = getattr(pool, "_change_notifier", None)
    if handler is not None and notifier is not None:
        handler._state = TERMINATE
        notifier.put(None)
        handler.join(HANDLER_JOIN_SECONDS)
    workers = list(dict.fromkeys([*processes, *pool_processes(pool)]))
    for process in workers:
        if process.exitcode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
    for process in workers:
        process.join()
    # Only workers take the task queue's read lock (until Pool.terminate itself does), so
    # with every worker dead, a held one is a dead worker's: no wait (an idle worker holds
    # it while it waits for a task). The result queue's write lock is also taken for a
    # moment by this process's task-handler thread: a held one is a dead worker's only if
    # it stays held.
    locks = (("_inqueue", "_rlock", 0.0), ("_outqueue", "_wlock", LOCK_WAIT_SECONDS))
    for queue, name, wait in locks:
        lock = getattr(getattr(pool, queue, None), name, None)
        if lock is not None:
            lock.acquire(timeout=wait)
            lock.release()  # free either way
    _stop_task_handler(pool)  # it sends its last message to the result queue: locks first
    pool.terminate()


def _stop_task_handler(pool: Any) -> None:
    """End a pool's task-handler thread once its workers are dead: tell it to stop, and
    read whatever it writes to the task pipe (raw bytes: nobody will read them as tasks)."""
    from multiprocessing.pool import TERMINATE

    handler = getattr(pool, "_task_handler", None)
    reader = getattr(getattr(pool, "_inqueue", None), "_reader", None)
    if handler is None or reader is None:
        return
    handler._state = TERMINATE
    deadline = time.monotonic() + HANDLER_JOIN_SECONDS
    while handler.is_alive() and time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if select.select([reader.fileno()], [], [], 0.01)[0]:
                os.read(reader.fileno(), 1 << 16)
        handler.join(0.01)


HANDLER_JOIN_SECONDS = 5.0
"""How long to wait for a pool's worker-handler thread to notice it must stop."""

LOCK_WAIT_SECONDS = 0.2
"""How long the result queue's write lock may stay held by this process's task-handler
thread before it counts as a dead worker's."""


def attach_untracked(name: str) -> shared_memory.SharedMemory:
    """Map an existing shared memory block without registering it for clean-up.

    Before Python 3.13, attaching registers the block with the resource tracker, which
    then unlinks it when this process ends, though only its creator should. Public from
    3.13 on: ``SharedMemory(name, track=False)``, used there; before, the tracker's
    ``register`` is replaced for the call (``multiprocessing.resource_tracker``, CPython
    3.11 and 3.12).
    """
    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name, track=False)
    from multiprocessing import resource_tracker

    register = resource_tracker.register
    resource_tracker.register = lambda *args, **kwargs: None
    try:
        return shared_memory.SharedMemory(name)
    finally:
        resource_tracker.register = register


class ReusableLokyAside:
    """Sets loky's reusable workers aside while a ``joblib.Parallel`` gets workers of its own.

    loky keeps one reusable executor per process (``loky.reusable_executor._executor``,
    with ``_executor_kwargs``, and joblib's ``joblib.executor._executor_args``; joblib 1.4
    to 1.6), which every ``Parallel(n_jobs=...)`` uses, scikit-learn's included; one started
    with other arguments shuts the existing one down and starts new workers. Setting it
    aside while foldrace's ``Parallel`` runs, then putting it back, leaves a user's warm
    workers running. The public alternative, ``get_reusable_executor().shutdown()``, is what
    must not happen to them.
    """

    def __init__(self) -> None:
        from joblib import executor as joblib_executor
        from joblib.externals.loky import reusable_executor as loky

        self._modules = (loky, joblib_executor)
        with loky._executor_lock:
            self._saved = (loky._executor, loky._executor_kwargs, joblib_executor._executor_args)
            loky._executor = loky._executor_kwargs = None
            joblib_executor._executor_args = None

    def kill_current(self) -> None:
        """Kill the workers started meanwhile and wait for them to end, from any thread; a
        call using them fails."""
        loky, _ = self._modules
        with loky._executor_lock:
            ours = loky._executor
        if ours is not None and ours is not self._saved[0]:
            ours.shutdown(wait=True, kill_workers=True)

    def restore(self, kill_workers: bool = False) -> None:
        """Stop the workers started meanwhile (killing them if asked) and put the others back."""
        loky, joblib_executor = self._modules
        with loky._executor_lock:
            ours = loky._executor
            loky._executor, loky._executor_kwargs, joblib_executor._executor_args = self._saved
        if ours is not None and ours is not self._saved[0]:
            ours.shutdown(wait=True, kill_workers=kill_workers)

"""Private attributes of other libraries that foldrace relies on, each in one place.

Every function here reaches into a library's internals, says which versions it was
checked on, and names the public alternative where one exists.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterable
from typing import Any

__all__ = ["pool_processes", "release_at_exit", "terminate_pool"]


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


def pool_processes(pool: Any) -> list[Any]:
    """The worker processes of a ``multiprocessing.Pool`` (empty for a ``ThreadPool``).

    ``Pool._pool`` lists them (CPython 3.11 to 3.14); the public API offers no way to
    watch a pool's workers, which is how a worker that died mid-task goes unnoticed.
    """
    return [p for p in getattr(pool, "_pool", ()) if hasattr(p, "exitcode")]


def terminate_pool(pool: Any, processes: Iterable[Any]) -> None:
    """``Pool.terminate()`` that cannot hang on workers killed from outside.

    A worker killed while it waits for its next task (a signal sent to the whole process
    group, the out-of-memory killer) dies holding the task queue's read lock
    (``pool._inqueue._rlock``), and one killed while it sends a result dies holding the
    result queue's write lock (``pool._outqueue._wlock``); ``Pool.terminate()`` then blocks
    forever acquiring one of them. Meanwhile the pool's worker-handler thread forks
    replacements, which wait on those locks too. So, in order (CPython 3.11 to 3.14, no
    public alternative): stop the worker handler (``_worker_handler``,
    ``_change_notifier``), kill and reap every worker, free both locks (plain semaphores,
    which any process may release), then terminate.
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
    for queue, name in (("_inqueue", "_rlock"), ("_outqueue", "_wlock")):
        lock = getattr(getattr(pool, queue, None), name, None)
        if lock is not None:
            # Taken here if free, or once this process's own pool threads let go of it
            # (they hold it for a moment); still held after that: by a dead worker.
            lock.acquire(timeout=LOCK_WAIT_SECONDS)
            lock.release()  # free either way
    pool.terminate()


HANDLER_JOIN_SECONDS = 5.0
"""How long to wait for a pool's worker-handler thread to notice it must stop."""

LOCK_WAIT_SECONDS = 0.2
"""How long a queue lock may stay held by a live thread before it counts as a dead one's."""

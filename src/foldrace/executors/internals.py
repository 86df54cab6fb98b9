"""Private attributes of other libraries that foldrace relies on, each in one place.

Every function here reaches into a library's internals, says which versions it was
checked on, and names the public alternative where one exists.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

__all__ = ["release_at_exit"]


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

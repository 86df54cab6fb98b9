"""Copy-on-write pages after a fork: settled before timing work that runs in this process.

When this process forks (a ``fork`` pool starting its workers), its memory pages become
shared with the children and marked copy-on-write. The next pass of this process over its
objects (the interpreter writes reference counts on every object it touches) takes a page
fault on each page, children alive or not: measured, the first fold of a serial run just
after a fork pool took 50 to 60 ms longer than the others (0.16 s against 0.11 s, 2 CPUs)
and 0.1 s longer on a 16-CPU machine, which made every executor look 7 to 15 % faster
than the reference at one worker. A user's own serial loop forks nothing, so before a run
whose tasks execute in this process (the serial reference, thread pools) the race runs the
first task once, untimed, whenever this process has forked since it last did so.
"""

from __future__ import annotations

import os

__all__ = ["needs_settling", "settled"]

_counts = {"forks": 0, "settled_at": 0}


def _count_fork() -> None:
    _counts["forks"] += 1


os.register_at_fork(after_in_parent=_count_fork)


def needs_settling() -> bool:
    """Whether this process has forked since :func:`settled` was last called."""
    return _counts["forks"] != _counts["settled_at"]


def settled() -> None:
    """Note that this process has just touched its pages again (after an untimed run)."""
    _counts["settled_at"] = _counts["forks"]

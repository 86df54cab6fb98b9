"""Stop signals: Ctrl-C, SIGTERM and SIGHUP end a race one way, once.

Python turns Ctrl-C (SIGINT) into ``KeyboardInterrupt`` every time it arrives, and leaves
SIGTERM (``kill``, ``timeout``, a CI runner cancelling) and SIGHUP (a terminal closing) to
kill the process on the spot: no pool stopped, nothing saved, workers orphaned. Inside
:class:`StopSignals` every one of them raises ``KeyboardInterrupt`` in the main thread,
once, so the race stops its pools and saves what it measured; a second signal during that
clean-up is noted and ignored instead of interrupting it (which would lose the results or
print a traceback). :func:`deferred` holds a first signal back while a block that must not
be cut in half runs (stopping a pool, writing a file) and raises it afterwards.

Worker processes forked while the handlers are installed get the default handlers back
(:func:`os.register_at_fork`), so that a pool can still stop its workers with SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

__all__ = [
    "STOP_SIGNALS",
    "StopSignals",
    "deferred",
    "exit_code",
    "signals_received",
    "stop_received",
]

STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""The signals that stop a race: Ctrl-C, termination, hang-up (where the platform has them)."""

_active: list[StopSignals] = []  # the installed handlers, innermost last (main thread only)


class StopSignals:
    """Within the ``with`` block, the first stop signal raises ``KeyboardInterrupt``, once.

    Parameters
    ----------
    signals : sequence of signal numbers
        Which signals to handle; :data:`STOP_SIGNALS` if omitted.
    final : bool
        The program ends after the block (a command line's ``main``): once stopped, it
        ignores later stop signals to the end rather than restoring the handlers, so a
        second Ctrl-C cannot change how it ends.

    Handlers can only be installed from the main thread; elsewhere (and for signals whose
    handler is not Python's own default, such as a notebook kernel's) the block runs
    unchanged. A signal already handled by an enclosing :class:`StopSignals` is left to it.

    Attributes
    ----------
    received : int or None
        The first stop signal that arrived, if any.
    """

    def __init__(self, signals: tuple[int, ...] | None = None, *, final: bool = False) -> None:
        self.signals = tuple(STOP_SIGNALS if signals is None else signals)
        self.final = final
        self.received: int | None = None
        self.count = 0  # stop signals received, the first included
        self.deferred = 0  # depth of deferred() blocks
        self.pending = False  # a first signal held back by deferred()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is not threading.main_thread():
            return self
        for signum in self.signals:
            current = signal.getsignal(signum)
            if isinstance(getattr(current, "__self__", None), StopSignals):
                continue  # an enclosing block handles it
            if signum == signal.SIGINT and current is not signal.default_int_handler:
                continue  # someone else's Ctrl-C handler: leave it alone
            if signum != signal.SIGINT and current not in (signal.SIG_DFL, None):
                continue
            self._previous[signum] = current
            signal.signal(signum, self._handle)
        if self._previous:
            _active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        stopped = self.final and self.received is not None
        for signum, previous in self._previous.items():
            signal.signal(signum, signal.SIG_IGN if stopped else previous)
        if self._previous:
            _active.remove(self)
        self._previous = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.received is not None:
            return  # already stopping: let the clean-up finish
        self.received = signum
        if self.deferred:
            self.pending = True
            return
        raise KeyboardInterrupt

    @property
    def exit_code(self) -> int:
        """``128 + signal number`` of the first signal, as a shell reports it (130 for Ctrl-C)."""
        return exit_code(self.received or signal.SIGINT)


def exit_code(signum: int) -> int:
    """The exit status a shell gives a process ended by ``signum``: ``128 + signum``."""
    return 128 + int(signum)


def stop_received() -> int | None:
    """The stop signal received by the innermost active :class:`StopSignals`, if any."""
    for handler in reversed(_active):
        if handler.received is not None:
            return handler.received
    return None


def signals_received() -> int:
    """How many stop signals the active :class:`StopSignals` blocks have received.

    A clean-up that waits (for threads, which cannot be stopped) can end its wait when
    this grows: the user asked again.
    """
    return sum(handler.count for handler in _active)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold a first stop signal back until the block is over, then raise it.

    For clean-up that must run whole: stopping a pool, writing a results file. Outside
    :class:`StopSignals` (or off the main thread) the block runs unchanged.
    """
    if not _active or threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = _active[-1]
    handler.deferred += 1
    try:
        yield
    finally:
        handler.deferred -= 1
        if not handler.deferred and handler.pending:
            handler.pending = False
            raise KeyboardInterrupt


def _block_before_fork() -> None:
    """Before a fork: block the stop signals, so none lands between fork and the reset."""
    if _active and hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def _unblock_in_parent() -> None:
    if _active and hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _defaults_in_child() -> None:
    """In a forked child: the handlers that were there before :class:`StopSignals`.

    A stop signal sent while the child was being made (a whole process group stopped at
    once) stayed blocked; it is delivered now, to the default handler, and ends the child
    as it ends any worker. A Ctrl-C whose handler is Python's own would raise
    ``KeyboardInterrupt`` inside this hook, where Python prints it and carries on; the
    child ends as an interrupted process does instead, by SIGINT itself.
    """
    active = bool(_active)
    for handler in reversed(_active):  # innermost first: the outermost restores last
        for signum, previous in handler._previous.items():
            signal.signal(signum, previous)
    _active.clear()
    if active and hasattr(signal, "pthread_sigmask"):
        try:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_block_before_fork,
        after_in_parent=_unblock_in_parent,
        after_in_child=_defaults_in_child,
    )

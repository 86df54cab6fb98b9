"""Stop signals in this process: raised once, held while clean-up must not be cut short."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from foldrace.interrupts import StopSignals, deferred, exit_code, signals_received, stop_received


def _send(signum: int) -> None:
    os.kill(os.getpid(), signum)
    time.sleep(0.05)  # let Python run the handler


def test_the_first_stop_signal_raises_once_and_later_ones_are_counted():
    with StopSignals() as stop:
        with pytest.raises(KeyboardInterrupt):
            _send(signal.SIGTERM)
        _send(signal.SIGINT)  # during the clean-up: noted, not raised
        assert stop.received == signal.SIGTERM
        assert stop.count == 2
        assert signals_received() == 2
        assert stop_received() == signal.SIGTERM
    assert stop.exit_code == 143 == exit_code(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_held_stop_signal_is_raised_when_the_block_ends():
    reached = []

    def hold_both() -> None:
        with deferred():
            _send(signal.SIGTERM)
            _send(signal.SIGINT)
            reached.append(stop.received)  # both held: the block goes on

    with StopSignals() as stop, pytest.raises(KeyboardInterrupt):
        hold_both()
    assert reached == [signal.SIGTERM]
    assert stop.count == 2


def test_a_final_block_ignores_stop_signals_once_stopped():
    try:
        with StopSignals(final=True), pytest.raises(KeyboardInterrupt):
            _send(signal.SIGHUP)
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)


def test_an_inner_block_leaves_the_signals_to_the_outer_one():
    with (
        StopSignals() as outer,
        StopSignals((signal.SIGINT,)) as inner,
        pytest.raises(KeyboardInterrupt),
    ):
        _send(signal.SIGINT)
    assert outer.received == signal.SIGINT
    assert inner.received is None


def test_a_forked_child_gets_the_default_handlers_back():
    with StopSignals():
        pid = os.fork()
        if pid == 0:  # the child ends by the default action of SIGTERM, not by a handler
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status)
    assert os.WTERMSIG(status) == signal.SIGTERM


def test_outside_the_main_thread_nothing_is_installed():
    import threading

    found = []

    def install() -> None:
        with StopSignals() as stop:
            found.append(stop._previous)

    thread = threading.Thread(target=install)
    thread.start()
    thread.join()
    assert found == [{}]


FORKED_DURING_CTRL_C = """
import os, signal, sys
# runs in the child before foldrace's own hook: a Ctrl-C to the group while it is made
os.register_at_fork(after_in_child=lambda: os.kill(os.getpid(), signal.SIGINT))
from foldrace.interrupts import StopSignals

with StopSignals():
    pid = os.fork()
    if pid == 0:
        print("the child carried on", flush=True)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
if os.WIFSIGNALED(status):
    print("signalled", os.WTERMSIG(status))
else:
    print("exited", os.WEXITSTATUS(status))
"""


@pytest.mark.skipif(not hasattr(os, "register_at_fork"), reason="needs os.fork")
def test_a_child_forked_during_a_ctrl_c_ends_by_it_without_a_traceback():
    done = subprocess.run(
        [sys.executable, "-c", FORKED_DURING_CTRL_C],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.split() == ["signalled", str(int(signal.SIGINT))]
    assert "Exception ignored" not in done.stderr
    assert "Traceback" not in done.stderr

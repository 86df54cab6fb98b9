"""Waiting safely: the bases of the ``Pool`` and ``concurrent.futures`` strategies.

A strategy's :meth:`~foldrace.executors.base.Executor.dispatch` makes its one library call;
the wait that follows goes through here. Every wait polls, every
:data:`~foldrace.executors.backends.base.POLL_SECONDS`, whether a worker died meanwhile
(the stdlib ``Pool`` silently replaces a dead worker and would wait forever for the task
it held) and whether the run's deadline has passed. A failure ends the ``with`` block,
which stops the workers: none is left behind.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from foldrace.executors.backends.base import POLL_SECONDS
from foldrace.executors.base import Executor
from foldrace.executors.internals import (
    map_failure,
)

__all__ = ["FuturesStrategy", "PoolStrategy"]


class PoolStrategy(Executor):
    """Base of the ``multiprocessing.Pool`` strategies: ``dispatch`` gets a pool."""

    family = "multiprocessing.Pool"
    api = "pool"

    def wait(
        self, done: Callable[[float], bool], pending: Callable[[], tuple[int, ...]] = tuple
    ) -> None:
        """Block until ``done(seconds)`` is true, watching the workers and the deadline.

        ``done(seconds)`` waits up to ``seconds`` and says whether the work is over;
        ``pending()`` names the unfinished task indices for the error message.

        Raises
        ------
        WorkerDiedError
            If a worker died before the work was over.
        TaskTimeoutError
            If the deadline passed first.
        """
        deadline = self.deadline()
        while not done(POLL_SECONDS):
            self.backend.check_alive(pending)
            if deadline is not None and time.monotonic() > deadline:
                raise self.timed_out()

    def get(self, result: Any, pending: Callable[[], tuple[int, ...]] = tuple) -> Any:
        """Wait safely for one ``AsyncResult`` and return its value (or raise its error).

        A ``map``/``starmap`` result only becomes ready once every chunk is back, even
        after one has failed; the first failure is raised as soon as it is recorded
        (:func:`~foldrace.executors.map_failure`).
        """

        def done(seconds: float) -> bool:
            result.wait(seconds)
            return bool(result.ready()) or map_failure(result) is not None

        self.wait(done, pending)
        failure = None if result.ready() else map_failure(result)
        if failure is not None:
            raise failure
        return result.get()


class FuturesStrategy(Executor):
    """Base of the ``concurrent.futures`` strategies: ``dispatch`` gets an executor."""

    family = "concurrent.futures"
    api = "futures"

    @contextlib.contextmanager
    def failures(self, unfinished: Callable[[], Any]) -> Iterator[None]:
        """Turn a wait's timeout and a broken process pool into foldrace's errors.

        ``unfinished()`` gives the indices of the tasks not done, for the error message.
        """
        try:
            yield
        except cf.TimeoutError:
            raise self.timed_out() from None
        except BrokenProcessPool as exc:
            raise self.backend.died(tuple(sorted(unfinished()))) from exc

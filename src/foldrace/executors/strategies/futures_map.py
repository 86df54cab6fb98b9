"""``concurrent.futures``: ``Executor.map`` over the tasks, each shared argument a
constant iterable beside them; results come back in task order.

Timeouts and broken pools become foldrace's errors in :mod:`.waiting`; the workers come from
a backend (:mod:`foldrace.executors.backends`).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from foldrace.executors.strategies.waiting import FuturesStrategy

__all__ = ["FuturesMapExecutor"]


class FuturesMapExecutor(FuturesStrategy):
    """``Executor.map`` over the tasks, each shared argument a constant iterable beside them."""

    name = "futures_map"
    summary = "concurrent.futures Executor.map: results yielded in task order"
    takes_chunksize = True

    def dispatch(
        self, executor: Any, fn: Callable[..., Any], common: tuple[Any, ...], items: list[Any]
    ) -> list[Any]:
        """Map over the items; results (and the first error) come back in task order.

        ``map`` submits every task at once (in chunks of ``chunksize`` on processes) and
        yields results in order, so on its own an error in a later task would surface only
        after the earlier ones are done: the futures it submits are watched, and the first
        to fail is raised at once.
        """
        chunks = {"chunksize": self.spec.chunksize} if self.spec.chunksize else {}
        columns = [itertools.repeat(value, len(items)) for value in common]
        results: list[Any] = []
        with self.failures(lambda: range(len(results), len(items))):
            with _recording(executor) as futures:
                iterator = executor.map(fn, *columns, items, timeout=self.remaining(), **chunks)
            done, _ = cf.wait(futures, self.remaining(), return_when=cf.FIRST_EXCEPTION)
            for future in futures:  # the first failure in task order among those done
                if future in done and future.exception() is not None:
                    raise future.exception()  # type: ignore[misc]
            results.extend(iterator)
        return results


@contextlib.contextmanager
def _recording(executor: Any) -> Iterator[list[cf.Future[Any]]]:
    """Collect the futures that ``executor.submit`` returns while the block runs.

    ``Executor.map`` submits every task (or chunk) through ``submit`` at once and yields
    results in order; watching the futures it makes lets a failure surface as soon as it
    happens, not after every earlier task.
    """
    futures: list[cf.Future[Any]] = []
    submit = executor.submit

    def recorded(*args: Any, **kwargs: Any) -> cf.Future[Any]:
        future: cf.Future[Any] = submit(*args, **kwargs)
        futures.append(future)
        return future

    executor.submit = recorded
    try:
        yield futures
    finally:
        del executor.submit

"""joblib: ``Parallel(n_jobs=w)(delayed(fn)(*common, item) for item in items)`` on loky.

What scikit-learn itself uses for ``n_jobs``. Its loky backend starts workers its own way
(a fresh interpreter per worker, like spawn, so there is no start method to choose), batches
tasks automatically, limits each worker's inner BLAS threads, and passes large arrays to the
workers through memory-mapped files rather than pickling them with every task. foldrace's
``data`` axis maps onto that last switch::

    task    max_nbytes=None   arrays pickled with every batch of tasks
    shared  max_nbytes=0      arrays dumped once to a file that every worker memory-maps
"""

from __future__ import annotations

import multiprocessing
import re
from collections.abc import Callable, Sequence
from typing import Any

from joblib import Parallel, delayed
from joblib.externals.loky.process_executor import TerminatedWorkerError

from foldrace.errors import TaskTimeoutError, WorkerDiedError
from foldrace.executors.base import Executor

__all__ = ["JoblibExecutor"]


def _noop() -> None:
    """A task that does nothing: one per worker starts the pool."""


class JoblibExecutor(Executor):
    """``joblib.Parallel`` with the loky backend over the same fold function.

    Parameters are those of :class:`~foldrace.executors.base.Executor`. ``blas_threads``
    becomes loky's ``inner_max_num_threads``; with None, joblib applies its own default
    (CPUs divided by workers), not the libraries' default.
    """

    name = "joblib"
    family = "joblib"
    schedule = "list"
    summary = "joblib Parallel on loky: auto-batching, memory-mapped arrays, reusable workers"
    pools = ("process",)
    start_methods = ("loky",)
    data_modes = ("task", "shared")

    def __init__(self, workers: int = 1, **options: Any) -> None:
        super().__init__(workers, **options)
        self._parallel: Parallel | None = None

    def start(self) -> None:
        """Open the ``Parallel`` context and run one no-op per worker to start them."""
        from joblib.parallel import LokyBackend

        backend = LokyBackend(inner_max_num_threads=self.blas_threads)
        parallel = Parallel(
            n_jobs=self.workers,
            backend=backend,
            timeout=self.timeout,
            max_nbytes=None if self.data_passing == "task" else 0,
            mmap_mode="r",
        )
        self._parallel = parallel.__enter__()
        try:
            parallel.timeout = None  # the timeout is for runs, not for start-up
            parallel(delayed(_noop)() for _ in range(self.workers))
            parallel.timeout = self.timeout
        except BaseException:
            self.shutdown(abort=True)
            raise

    def shutdown(self, abort: bool = False) -> None:
        """Leave the ``Parallel`` context and stop loky's workers (it would keep them idle)."""
        parallel, self._parallel = self._parallel, None
        if parallel is None:
            return
        workers = getattr(parallel._backend, "_workers", None)
        parallel.__exit__(None, None, None)
        if workers is not None:
            workers.shutdown(wait=True, kill_workers=abort)
            # joblib keeps the memory-mapped copies until the interpreter exits, in case
            # the workers are reused; these workers are gone, so free them now
            manager = getattr(workers, "_temp_folder_manager", None)
            if manager is not None:
                manager._clean_temporary_resources(force=True)

    def run(self, fn: Callable[..., Any], common: tuple[Any, ...], items: Sequence[Any]) -> list:
        """One ``delayed`` call per item; joblib returns the results in item order."""
        if self._parallel is None:
            raise RuntimeError(f"{self!r} is not started: use it as a context manager")
        try:
            return list(self._parallel(delayed(fn)(*common, item) for item in items))
        except TerminatedWorkerError as exc:
            codes = [int(c) for c in re.findall(r"\((-?\d+)\)", str(exc))]
            raise WorkerDiedError(None, codes[0] if codes else -1) from exc
        except (TimeoutError, multiprocessing.TimeoutError) as exc:
            if self.timeout is None:
                raise
            raise TaskTimeoutError(self.timeout) from exc

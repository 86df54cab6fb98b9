"""joblib: ``Parallel(n_jobs=w)(delayed(fn)(*common, item) for item in items)``, what
scikit-learn itself uses for ``n_jobs``.

Its loky workers start their own way (a fresh interpreter per worker, like spawn, so there
is no start method to choose); joblib batches tasks automatically, limits each worker's
inner BLAS threads, and passes large arrays to the workers through memory-mapped files
rather than pickling them with every task. ``chunksize=N`` sets joblib's ``batch_size``
(tasks per batch; ``"auto"`` without it), ``pre_dispatch=`` its batches queued ahead.
foldrace's data passing maps onto the last switch::

    task    max_nbytes=None   arrays pickled with every batch of tasks
    shared  max_nbytes=0      arrays dumped once to a file that every worker memory-maps

The ``Parallel`` and its workers come from the backend: loky processes
(:mod:`foldrace.executors.backends.process`), or the kinds of worker a scikit-learn user
reaches through ``joblib.parallel_config``: threads (``backend="threading"``), a Dask
cluster (``backend="dask"``) and Ray (``ray.util.joblib``).
"""

from __future__ import annotations

import multiprocessing
import re
from collections.abc import Callable
from typing import Any

from joblib import delayed
from joblib.externals.loky.process_executor import TerminatedWorkerError

from foldrace.errors import TaskTimeoutError, WorkerDiedError
from foldrace.executors.base import Executor

__all__ = ["JoblibExecutor"]


class JoblibExecutor(Executor):
    """``joblib.Parallel`` over the same fold function.

    On loky, ``blas_threads`` becomes ``inner_max_num_threads``; with None, joblib applies
    its own default (CPUs divided by workers), not the libraries' default.
    """

    name = "joblib"
    family = "joblib"
    summary = "joblib Parallel on loky: auto-batching, memory-mapped arrays, reusable workers"
    api = "joblib"
    start_methods = ("loky",)
    data_modes = ("task", "shared")
    takes_chunksize = True  # joblib's batch_size
    takes_pre_dispatch = True

    def dispatch(
        self, parallel: Any, fn: Callable[..., Any], common: tuple[Any, ...], items: list[Any]
    ) -> list[Any]:
        """One ``delayed`` call per item; joblib returns the results in item order."""
        try:
            return list(parallel(delayed(fn)(*common, item) for item in items))
        except TerminatedWorkerError as exc:
            codes = [int(c) for c in re.findall(r"\((-?\d+)\)", str(exc))]
            raise WorkerDiedError(None, codes[0] if codes else -1) from exc
        except (TimeoutError, multiprocessing.TimeoutError) as exc:
            if self.timeout is None:
                raise
            raise TaskTimeoutError(self.timeout) from exc

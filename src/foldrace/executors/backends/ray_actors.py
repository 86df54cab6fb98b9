"""Ray actors on a Ray cluster, behind ``ray.util.multiprocessing.Pool``: ``Pool``'s API,
and joblib's, through Ray's joblib backend.

The strategies written for ``multiprocessing.Pool`` run unchanged. ``worker`` data passing
hands the shared arguments to each actor's initializer; ``shared`` puts every array once
into Ray's object store (``ray.put``) and hands the actors references. Ray's pool returns
once every actor answers a ping, so its workers are up when it is.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from foldrace.executors.backends.base import Backend
from foldrace.executors.data import ray_handles, set_worker_data
from foldrace.executors.inner_threads import limit_inner_threads
from foldrace.executors.options import DATA_MODES

__all__ = ["RayBackend"]


def start_ray_worker(blas_threads: int | None, data: tuple[Any, ...] | None) -> None:
    """Ray actor initializer: limit inner threads and take the data (Ray waits for it)."""
    limit_inner_threads(blas_threads)
    set_worker_data(data)


class RayBackend(Backend):
    """Ray actors on the cluster at :attr:`RunOptions.address`."""

    kind = "ray"
    apis = frozenset({"pool", "joblib"})
    data_modes = DATA_MODES
    api_data_modes = MappingProxyType({"joblib": ("task",)})
    library = "ray"
    on_cluster = True

    def open_pool(self) -> Any:
        """A ``ray.util.multiprocessing.Pool`` of ``workers`` actors."""
        from ray.util.multiprocessing import Pool

        self._close = self._close_pool
        data: tuple[Any, ...] | None = None
        if self.spec.data_passing == "worker":
            data = self.common
        elif self.spec.data_passing == "shared":
            data = ray_handles(self.common)
        initargs = (self.options.blas_threads, data)
        self._live_pool = Pool(self.options.workers, start_ray_worker, initargs)
        return self._live_pool

    def _close_pool(self, abort: bool, deadline: float | None) -> None:
        pool = getattr(self, "_live_pool", None)
        if pool is None:
            return
        if abort:
            pool.terminate()
        else:
            pool.close()
        pool.join()

    def open_joblib(self) -> Any:
        """A ``joblib.Parallel`` on Ray's joblib backend (``ray.util.joblib``).

        ``register_ray()`` then ``parallel_config(backend="ray")`` is how a scikit-learn
        user sends ``n_jobs`` work to a Ray cluster; its workers are actors behind
        ``ray.util.multiprocessing.Pool``, started here by one task each. The data travels
        with every batch of tasks (Ray's backend has no per-worker initializer).
        """
        from joblib import Parallel, delayed, parallel_config
        from ray.util.joblib import register_ray

        register_ray()
        with parallel_config(backend="ray"):  # no inner_max_num_threads: Ray sets the
            parallel = Parallel(n_jobs=self.options.workers)  # actors' OMP_NUM_THREADS
        self._parallel = parallel.__enter__()
        self._close = self._close_joblib
        limit = self.options.blas_threads
        parallel(delayed(start_ray_worker)(limit, None) for _ in range(self.options.workers))
        self.for_runs(parallel)
        return parallel

    def _close_joblib(self, abort: bool, deadline: float | None) -> None:
        self._parallel.__exit__(None, None, None)

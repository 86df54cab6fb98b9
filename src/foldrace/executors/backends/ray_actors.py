"""Ray actors on a Ray cluster, behind ``ray.util.multiprocessing.Pool``: ``Pool``'s API.

The strategies written for ``multiprocessing.Pool`` run unchanged. ``worker`` data passing
hands the shared arguments to each actor's initializer; ``shared`` puts every array once
into Ray's object store (``ray.put``) and hands the actors references. Ray's pool returns
once every actor answers a ping, so its workers are up when it is.
"""

from __future__ import annotations

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
    apis = frozenset({"pool"})
    data_modes = DATA_MODES
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

"""Data passing: how worker processes get the arguments every task shares (X, y, models).

Three modes, chosen with ``data_passing=`` (the label's last word)::

    task    (*common, item) pickled with every task           the blog's way
    worker  common pickled once per worker, at pool start     pool initializer + a global
    shared  arrays copied once into shared memory; each       multiprocessing.shared_memory
            worker maps them, tasks carry small handles

Threads need none of this: they share the parent's memory, so nothing is copied. On a
cluster, ``shared`` means the cluster's own store: Ray's object store (``ray.put``) or
Dask's workers' memory (``Client.scatter``). In the
``worker`` and ``shared`` modes a task sends ``call_with_worker_data(fn, item)`` and the
worker supplies the shared arguments from what it received at start-up. Each backend
says which modes it offers and does its part (see :mod:`foldrace.executors.backends`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import shared_memory
from multiprocessing.reduction import ForkingPickler
from typing import Any

import numpy as np

from foldrace.executors.internals import attach_untracked

__all__ = [
    "RayObject",
    "SharedArray",
    "SharedData",
    "call_with_worker_data",
    "payload_bytes",
    "ray_handles",
    "set_worker_data",
]

_WORKER_DATA: tuple[Any, ...] | None = None
"""The shared arguments this worker process received when it started."""

_ATTACHED: list[shared_memory.SharedMemory] = []
"""Shared memory blocks this worker has mapped, kept open while it lives."""


@dataclass(frozen=True)
class SharedArray:
    """A small, picklable handle on a numpy array held in a shared memory block."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    def attach(self) -> np.ndarray:
        """Map the block in this process and view it as a read-only array (no copy)."""
        block = attach_untracked(self.name)  # only its creator unlinks it
        _ATTACHED.append(block)
        array = np.ndarray(self.shape, np.dtype(self.dtype), buffer=block.buf)
        array.flags.writeable = False
        return array


@dataclass(frozen=True)
class RayObject:
    """A handle on a value in Ray's object store, put there once by the driver."""

    ref: Any

    def attach(self) -> Any:
        """Fetch the value in this worker (numpy arrays come back zero-copy, read-only)."""
        import ray

        return ray.get(self.ref)


def ray_handles(common: tuple[Any, ...]) -> tuple[Any, ...]:
    """``common`` with every numpy array put once into Ray's object store."""
    import ray

    return tuple(RayObject(ray.put(v)) if isinstance(v, np.ndarray) else v for v in common)


class SharedData:
    """Copies of the numpy arrays in ``common`` placed in shared memory blocks.

    ``handles`` is ``common`` with every array replaced by its :class:`SharedArray`
    handle; :meth:`close` frees the blocks (the creator's job).
    """

    def __init__(self, common: tuple[Any, ...]) -> None:
        self.blocks: list[shared_memory.SharedMemory] = []
        handles: list[Any] = []
        try:
            for value in common:
                if isinstance(value, np.ndarray) and value.nbytes > 0:
                    block = shared_memory.SharedMemory(create=True, size=value.nbytes)
                    self.blocks.append(block)
                    copy = np.ndarray(value.shape, value.dtype, buffer=block.buf)
                    copy[...] = value
                    del copy
                    handles.append(SharedArray(block.name, value.shape, value.dtype.str))
                else:
                    handles.append(value)
        except BaseException:
            self.close()
            raise
        self.handles = tuple(handles)

    @property
    def nbytes(self) -> int:
        """Bytes held in shared memory."""
        return sum(block.size for block in self.blocks)

    def close(self) -> None:
        """Unmap and free every block."""
        blocks, self.blocks = self.blocks, []
        for block in blocks:
            block.close()
            block.unlink()


def set_worker_data(payload: tuple[Any, ...] | None) -> None:
    """Pool initializer step: keep the shared arguments, mapping any shared arrays."""
    global _WORKER_DATA
    if payload is None:
        return
    _WORKER_DATA = tuple(
        v.attach() if isinstance(v, SharedArray | RayObject) else v for v in payload
    )


def call_with_worker_data(fn: Callable[..., Any], item: Any) -> Any:
    """Call ``fn(*data, item)`` with the shared arguments this worker received at start."""
    if _WORKER_DATA is None:
        raise RuntimeError("this worker was started without its data (see set_worker_data)")
    return fn(*_WORKER_DATA, item)


def payload_bytes(obj: object, by_value: bool = False) -> int:
    """Size of ``obj`` pickled as multiprocessing pickles it, in bytes; with ``by_value``,
    as cloudpickle does (joblib's loky workers, Dask and Ray), which carries classes and
    functions the standard pickler can only name (a notebook's, a lambda) by value."""
    if by_value:
        import cloudpickle

        return len(cloudpickle.dumps(obj))
    return len(ForkingPickler.dumps(obj))

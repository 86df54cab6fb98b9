"""Backends: the kinds of worker a strategy can run on, one module each.

==========  ===========================================  ==============================
backend     workers                                      APIs offered
==========  ===========================================  ==============================
process     processes on this machine (a start method)   pool, futures, joblib, sklearn
thread      threads of this process                      pool, futures, joblib
ray         Ray actors on a Ray cluster                  pool, joblib
dask        Dask workers on a Dask cluster               client, futures, joblib
==========  ===========================================  ==============================

A backend starts its workers behind the API a strategy asks for, watches them and stops
them (see :class:`~foldrace.executors.backends.base.Backend`). Add one by writing a module
with a :class:`Backend` subclass and listing it in :data:`BACKENDS`: every strategy whose
API it offers then runs on it.
"""

from __future__ import annotations

from types import MappingProxyType

from foldrace.executors.backends.base import Backend
from foldrace.executors.backends.dask_workers import DaskBackend
from foldrace.executors.backends.process import ProcessBackend
from foldrace.executors.backends.ray_actors import RayBackend
from foldrace.executors.backends.thread import ThreadBackend

__all__ = ["BACKENDS", "CLUSTER_BACKENDS", "LOCAL_BACKENDS", "Backend"]

BACKENDS = MappingProxyType(
    {cls.kind: cls for cls in (ProcessBackend, ThreadBackend, RayBackend, DaskBackend)}
)
"""Backend classes by kind; for a strategy that runs on several, the first is its default."""

LOCAL_BACKENDS = tuple(kind for kind, cls in BACKENDS.items() if not cls.on_cluster)
"""Backends on this machine."""

CLUSTER_BACKENDS = tuple(kind for kind, cls in BACKENDS.items() if cls.on_cluster)
"""Backends on a cluster (see :mod:`foldrace.clusters`), each needing an extra."""

"""Preloaded by the fork server foldrace starts: its BLAS/OpenMP limit, set before any fork.

multiprocessing's fork server imports its preload modules once, then forks every worker
from itself. Imported there, this module limits the server's BLAS and OpenMP threads to
the count the parent put in :data:`SERVER_THREADS`, after scikit-learn's modules have
loaded those libraries; the workers forked from it inherit the limit. Setting it in each
worker instead restarts OpenBLAS's thread server there (see
:mod:`foldrace.executors.inner_threads`): measured, tasks took 20 % longer.
"""

from __future__ import annotations

import os

from foldrace.executors.inner_threads import limit_inner_threads

__all__ = ["SERVER_THREADS"]

SERVER_THREADS = "FOLDRACE_FORK_SERVER_THREADS"
"""The environment variable that carries the limit to the fork server as it starts."""

if os.environ.get(SERVER_THREADS):
    limit_inner_threads(int(os.environ[SERVER_THREADS]))

"""The keys that name runs in foldrace's results tables, shared by every module reading them."""

from __future__ import annotations

__all__ = ["REFERENCE", "RUN_KEY"]

REFERENCE = "serial"
"""The executor whose times and scores every other executor is compared with."""

RUN_KEY = ("granularity", "executor", "workers", "repeat")
"""The columns that name one timed run: which granularity, executor, worker count, repeat."""

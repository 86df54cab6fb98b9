"""The installed version of foldrace (``foldrace.__version__``, ``foldrace --version``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("foldrace")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "unknown"

"""A description of the machine a race ran on, for tables, captions and saved results."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from foldrace.executors.base import usable_cpus

__all__ = ["describe_machine", "machine_caption"]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def describe_machine() -> dict[str, object]:
    """CPU counts and model, OS, and the versions that shape the timings."""
    return {
        "usable_cpus": usable_cpus(),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
        "foldrace": _version("foldrace"),
        "scikit-learn": _version("scikit-learn"),
        "numpy": _version("numpy"),
    }


def machine_caption(machine: dict[str, object]) -> str:
    """One line: ``2 CPUs (model), Linux, Python 3.11.7, scikit-learn 1.9.1``."""
    return (
        f"{machine['usable_cpus']} CPUs ({machine['cpu_model']}), {machine['platform']}, "
        f"Python {machine['python']}, scikit-learn {machine['scikit-learn']}"
    )

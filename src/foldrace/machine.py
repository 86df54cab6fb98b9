"""A description of the machine a race ran on, for tables, captions and saved results."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from foldrace.executors.options import usable_cpus

__all__ = ["describe_machine", "machine_caption", "machine_state"]


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
    """CPU counts and model, OS, the versions that shape the timings, and the BLAS and
    OpenMP libraries loaded (``threadpoolctl.threadpool_info()``) with their threads."""
    return {
        "usable_cpus": usable_cpus(),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
        "foldrace": _version("foldrace"),
        "scikit-learn": _version("scikit-learn"),
        "numpy": _version("numpy"),
        "joblib": _version("joblib"),
        "pandas": _version("pandas"),
        "thread_libraries": _thread_libraries(),
    }


def _thread_libraries() -> list[dict[str, object]]:
    """The BLAS and OpenMP libraries loaded in this process: API, vendor, version, threads."""
    from threadpoolctl import threadpool_info

    keys = ("user_api", "internal_api", "version", "num_threads", "threading_layer")
    return [{key: info.get(key) for key in keys} for info in threadpool_info()]


def machine_caption(machine: dict[str, object]) -> str:
    """One line: ``2 CPUs (model), Linux, Python 3.11.7, scikit-learn 1.9.1``."""
    return (
        f"{machine['usable_cpus']} CPUs ({machine['cpu_model']}), {machine['platform']}, "
        f"Python {machine['python']}, scikit-learn {machine['scikit-learn']}"
    )


def _cpu_mhz() -> float | None:
    """Mean current clock of the usable CPUs in MHz, where the OS says (Linux)."""
    try:
        clocks = [
            float(line.split(":", 1)[1])
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("cpu MHz")
        ]
    except (OSError, ValueError):
        return None
    return round(sum(clocks) / len(clocks), 1) if clocks else None


def machine_state() -> dict[str, float | None]:
    """What else the machine is doing now: the 1-minute load average and the CPU clock.

    Either is None where it cannot be read. A load above the usable CPUs minus the race's
    own workers, or a clock that moves between rounds, explains timings that drift.
    """
    try:
        load: float | None = round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        load = None
    return {"load": load, "cpu_mhz": _cpu_mhz()}

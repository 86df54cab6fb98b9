"""The options of a run, checked once where user input enters.

:func:`RunOptions.checked` turns what a user gives (``race``, the ``Executor``
constructor, the CLI) into one frozen :class:`RunOptions`; nothing below it checks them
again. The checks themselves (``check_workers`` and friends) are here too, for entry points
that take one option at a time.
"""

from __future__ import annotations

import math
import multiprocessing
import numbers
import sys
import warnings
from dataclasses import dataclass

from foldrace.errors import InputError

__all__ = [
    "DATA_MODES",
    "DEFAULT_START_METHOD",
    "RunOptions",
    "check_blas_threads",
    "check_count",
    "check_pre_dispatch",
    "check_start_method",
    "check_timeout",
    "check_workers",
    "max_workers",
    "platform_start_method",
    "usable_cpus",
]


def platform_start_method() -> str:
    """The start method CPython uses by default on this platform and version.

    ``spawn`` on macOS (since Python 3.8: fork is unsafe there with system libraries) and
    Windows; on other POSIX systems ``fork`` before Python 3.14, ``forkserver`` from it.
    Computed, not read from ``multiprocessing``, whose default context is fixed for the
    whole program once read.
    """
    if sys.platform in ("darwin", "win32"):
        return "spawn"
    return "forkserver" if sys.version_info >= (3, 14) else "fork"


DEFAULT_START_METHOD = platform_start_method()
"""The start method foldrace uses unless told otherwise: the platform's own default, set
explicitly on every pool and recorded in the results."""

DATA_MODES = ("task", "worker", "shared")
"""How workers get the shared arguments (the data): pickled with every task, once per
worker through the pool initializer, or through shared memory (see
:mod:`foldrace.executors.data`)."""


def usable_cpus() -> int:
    """Number of CPUs this process may use, counted as joblib counts them for ``n_jobs``:
    its affinity mask and any CPU quota of its container (cgroups) are respected."""
    from joblib import cpu_count

    return max(1, int(cpu_count()))


def max_workers() -> int:
    """The largest worker count foldrace accepts: 32 per usable CPU."""
    return 32 * usable_cpus()


def check_count(label: str, value: object, minimum: int, maximum: int | None = None) -> int:
    """Return ``value`` as an int after checking it is an integer in ``[minimum, maximum]``.

    Raises
    ------
    InputError
        Naming ``label`` and the range expected.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or int(value) < minimum
        or (maximum is not None and int(value) > maximum)
    ):
        expected = f"of at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise InputError(f"{label} must be an integer {expected}, got {value!r}")
    return int(value)


def check_pre_dispatch(value: object) -> str:
    """Return joblib's ``pre_dispatch`` as text after checking it: ``"all"``, a whole number
    of batches of at least 1, or a positive multiple of ``n_jobs`` such as ``"3*n_jobs"``.

    Raises
    ------
    InputError
        Saying what is accepted.
    """
    text = str(value).replace(" ", "") if isinstance(value, str | int) else ""
    if isinstance(value, bool):
        text = ""
    factor = text.removesuffix("*n_jobs")
    try:
        number = float(factor) if factor != text else None
        ok = text == "all" or (0 < number < math.inf if number is not None else int(text) >= 1)
    except ValueError:
        ok = False
    if not ok:
        raise InputError(
            "pre_dispatch must be 'all', a whole number of at least 1 or a positive multiple "
            f"of n_jobs such as '3*n_jobs', got {value!r}"
        )
    return text


def check_workers(workers: object, *, warn: bool = False) -> int:
    """Return ``workers`` as an int after checking it is a sane worker count.

    Negative counts mean what scikit-learn's ``n_jobs`` means: ``-1`` every usable CPU,
    ``-2`` all but one, and so on. With ``warn``, a ``RuntimeWarning`` says when the count
    is above the usable CPU count, where workers share cores.

    Raises
    ------
    InputError
        If ``workers`` is not an integer, is 0, leaves no worker, or is above
        :func:`max_workers`.
    """
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral):
        raise InputError(f"workers must be a positive integer or -1 (all CPUs), got {workers!r}")
    count = int(workers)
    if count < 0:
        cpus = usable_cpus()
        if cpus + 1 + count < 1:
            raise InputError(
                f"workers={count} leaves no worker on {cpus} usable CPUs "
                "(-1 means every CPU, -2 all but one, as n_jobs)"
            )
        count = cpus + 1 + count
    if count < 1:
        raise InputError(f"workers must be at least 1, or -1 for every usable CPU; got {count}")
    if count > max_workers():
        raise InputError(
            f"workers={count} is more than foldrace allows on this machine "
            f"({max_workers()}, 32 per usable CPU)"
        )
    if warn and count > usable_cpus():
        warnings.warn(
            f"workers={count} is more than the {usable_cpus()} usable CPUs: "
            "workers will share cores",
            RuntimeWarning,
            stacklevel=3,
        )
    return count


def check_start_method(method: object) -> str:
    """Return ``method``, or :data:`DEFAULT_START_METHOD` for None, after checking it exists here.

    Raises
    ------
    InputError
        If this platform has no such start method; the message lists the ones it has.
    """
    if method is None:
        return DEFAULT_START_METHOD
    available = multiprocessing.get_all_start_methods()
    if method not in available:
        raise InputError(
            f"unknown start method {method!r}; this platform has: {', '.join(available)}"
        )
    return str(method)


def check_blas_threads(threads: object) -> int | None:
    """Return ``threads`` (inner BLAS/OpenMP threads per worker), or None for no limit.

    Raises
    ------
    InputError
        If ``threads`` is neither None nor a positive integer.
    """
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or threads < 1:
        raise InputError(f"blas_threads must be a positive integer or None, got {threads!r}")
    return int(threads)


def check_timeout(timeout: object) -> float | None:
    """Return ``timeout`` as a positive float, or None for no timeout.

    Raises
    ------
    InputError
        If ``timeout`` is not a positive, finite number.
    """
    if timeout is None:
        return None
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, numbers.Real)
        or not 0 < float(timeout) < math.inf
    ):
        raise InputError(f"timeout must be a positive, finite number of seconds, got {timeout!r}")
    return float(timeout)


@dataclass(frozen=True)
class RunOptions:
    """What one executor needs besides its configuration, checked: build with :meth:`checked`.

    Attributes
    ----------
    workers : int
        Number of workers.
    timeout : float or None
        Seconds one run may take before it raises
        :class:`~foldrace.errors.TaskTimeoutError`; a last line of defence, not the way
        failures are normally detected.
    blas_threads : int or None
        Inner BLAS/OpenMP threads per worker (threadpoolctl), 1 by default so that
        ``workers`` workers never run ``workers x cores`` threads; None leaves the
        libraries' own defaults.
    address : str or None
        The cluster to run on, for the cluster backends (``"ray"``, ``"dask"``), as
        :func:`foldrace.clusters.open_cluster` gives it.
    """

    workers: int = 1
    timeout: float | None = None
    blas_threads: int | None = 1
    address: str | None = None

    @classmethod
    def checked(
        cls,
        workers: object = 1,
        *,
        timeout: object = None,
        blas_threads: object = 1,
        address: str | None = None,
    ) -> RunOptions:
        """Check every option and return them frozen.

        Raises
        ------
        InputError
            For the first option that is not valid.
        """
        return cls(
            workers=check_workers(workers),
            timeout=check_timeout(timeout),
            blas_threads=check_blas_threads(blas_threads),
            address=address,
        )

"""Output files: check the directory before any work, then write each file atomically.

A file is written to a temporary name beside its target and renamed over it, so a reader
(or a crash) sees the old file or the complete new one, never half of one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from foldrace.errors import InputError

__all__ = ["atomic_write", "atomic_writer", "prepare_out_dir", "read_json"]


def prepare_out_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` if needed and check that files can be written into it.

    Raises
    ------
    InputError
        If ``path`` is an existing file, cannot be created, or is not writable.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {str(out)!r} is an existing file, not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"--out {str(out)!r} is not writable: {reason}") from None
    return out


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path``; rename it over ``path`` only on success."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO], object], mode: str = "w"):
    """Call ``write(handle)`` on a temporary file, then rename it to ``path``."""
    with atomic_writer(path, mode) as handle:
        write(handle)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file.

    Raises
    ------
    InputError
        If the file cannot be read or is not valid JSON; one line naming the file.
    """
    try:
        return json.loads(Path(path).read_text())
    except OSError as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{str(path)!r} is not valid JSON: {exc}") from None

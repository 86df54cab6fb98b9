"""Output files: check a directory before any work, then write files as complete sets.

Every file is written to a temporary name beside its target and renamed over it only when
the whole set it belongs to is written, so a reader (or a crash) sees the old files or
the complete new set, never half of one. Whatever stops a write (a full disk, Ctrl-C)
removes the temporary files, and an ``OSError`` becomes one :class:`WriteError`.

A run's files go into a folder of their own that appears under its final name only once
complete (:func:`publish_dir`); ``latest`` then points at it (:func:`set_latest`).

JSON is written strictly (no ``NaN`` or ``Infinity``, which JSON does not have): a
non-finite float is written as ``null`` (:func:`strict_json`).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from foldrace.errors import InputError

__all__ = [
    "LATEST",
    "AtomicFiles",
    "WriteError",
    "atomic_files",
    "atomic_write",
    "check_out_dir",
    "find_latest",
    "json_text",
    "prepare_out_dir",
    "publish_dir",
    "read_json",
    "set_latest",
    "strict_json",
    "write_json",
]

LATEST = "latest"
"""The relative symlink in an output folder that points at its latest complete run."""


class WriteError(InputError):
    """A file could not be written (no space left, no permission); nothing was replaced.

    Attributes
    ----------
    path : pathlib.Path
        The file (or folder) being written.
    reason : str
        The operating system's reason, such as ``No space left on device``.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"cannot write {os.fspath(path)!r}: {reason}; nothing was written")
        self.path = Path(path)
        self.reason = reason


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def check_out_dir(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` can be created or written into, without creating anything.

    Raises
    ------
    InputError
        If ``path`` is an existing file, or neither it nor its nearest existing parent is
        a writable directory.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {str(out)!r} is an existing file, not a directory")
    parent = out.absolute()
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"--out {str(out)!r} is not writable: {str(parent)!r} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"--out {str(out)!r} is not writable: permission denied")
    return out


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
        raise InputError(f"--out {str(out)!r} is not writable: {_reason(exc)}") from None
    return out


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class AtomicFiles:
    """A set of files written to temporary names, renamed into place together.

    Use through :func:`atomic_files`; :meth:`write` each file of the set.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[str, Path]] = []
        self.current: Path | None = None

    def write(
        self, path: str | os.PathLike[str], write: Callable[[IO[Any]], object], mode: str = "w"
    ) -> Path:
        """Call ``write(handle)`` on a temporary file that becomes ``path`` with the set."""
        target = Path(path)
        self.current = target
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        self._pending.append((tmp, target))
        try:
            handle = os.fdopen(fd, mode)
        except BaseException:
            os.close(fd)
            raise
        with handle:
            write(handle)
        return target

    def _commit(self) -> None:
        mode = 0o666 & ~_umask()
        for tmp, target in self._pending:
            self.current = target
            os.chmod(tmp, mode)
        while self._pending:
            tmp, target = self._pending[0]
            self.current = target
            os.replace(tmp, target)
            self._pending.pop(0)

    def _discard(self) -> None:
        for tmp, _ in self._pending:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        self._pending.clear()


@contextlib.contextmanager
def atomic_files() -> Iterator[AtomicFiles]:
    """Write a set of files that replace their targets together, or not at all.

    Raises
    ------
    WriteError
        If writing fails with an ``OSError``; no target is replaced (the renames at the
        end are all that can still fail half-way, and they need no space).
    """
    files = AtomicFiles()
    try:
        yield files
        files._commit()
    except BaseException as exc:
        files._discard()
        if isinstance(exc, OSError):
            raise WriteError(files.current or "?", _reason(exc)) from None
        raise


def atomic_write(
    path: str | os.PathLike[str],
    write: Callable[[IO[Any]], object],
    mode: str = "w",
    files: AtomicFiles | None = None,
) -> Path:
    """Call ``write(handle)`` on a temporary file, then rename it to ``path``.

    With ``files``, the file joins that set and is renamed with it.
    """
    if files is not None:
        return files.write(path, write, mode)
    with atomic_files() as own:
        return own.write(path, write, mode)


def strict_json(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, infinities) replaced by ``None``.

    Dicts, lists and tuples are copied recursively; ``json.dump(..., allow_nan=False)``
    then writes strict JSON, with ``null`` where a number was not finite.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(item) for item in value]
    return value


def json_text(data: Any) -> str:
    """``data`` as strict JSON text (see :func:`strict_json`), one level of indent a line.

    Every JSON foldrace writes or prints is made here.
    """
    return json.dumps(strict_json(data), indent=1, allow_nan=False)


def write_json(path: str | os.PathLike[str], data: Any, files: AtomicFiles | None = None) -> Path:
    """Write ``data`` as strict JSON (:func:`json_text`), atomically."""
    text = json_text(data) + "\n"
    return atomic_write(path, lambda handle: handle.write(text), files=files)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file.

    Bare ``NaN`` and ``Infinity``, which other tools write, are read as floats.

    Raises
    ------
    InputError
        If the file cannot be read or is not valid JSON; one line naming the file.
    """
    try:
        return json.loads(Path(path).read_text())
    except OSError as exc:
        raise InputError(f"cannot read {str(path)!r}: {_reason(exc)}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{str(path)!r} is not valid JSON: {exc}") from None


def publish_dir(parent: str | os.PathLike[str], name: str, write: Callable[[Path], object]) -> Path:
    """Write a set of files into a new folder that appears, complete, as ``parent/name``.

    ``write(folder)`` fills a hidden temporary folder beside the target; only when it
    returns is the folder renamed to ``name``, or to ``name-2``, ``name-3``, ... if that
    name is taken (never over an existing folder). Whatever stops ``write`` removes the
    temporary folder.

    Returns
    -------
    pathlib.Path
        The new folder.

    Raises
    ------
    WriteError
        If a file cannot be written; nothing is left behind.
    """
    parent = Path(parent)
    try:
        staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{name}.", suffix=".tmp"))
    except OSError as exc:
        raise WriteError(parent / name, _reason(exc)) from None
    try:
        write(staging)
        os.chmod(staging, 0o777 & ~_umask())
        for n in itertools.count(1):
            target = parent / (name if n == 1 else f"{name}-{n}")
            if target.exists() or target.is_symlink():
                continue
            try:
                os.rename(staging, target)
            except OSError as exc:
                if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                    continue
                raise
            return target
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, WriteError):
            raise WriteError(parent / name, exc.reason) from None
        if isinstance(exc, OSError):
            raise WriteError(parent / name, _reason(exc)) from None
        raise
    raise AssertionError("unreachable")  # pragma: no cover


def set_latest(parent: str | os.PathLike[str], name: str) -> Path:
    """Point ``parent/latest`` at the folder ``parent/name``, in one atomic step.

    ``latest`` is a relative symlink, replaced by renaming a new link over it; where
    symlinks cannot be made, ``latest.txt`` holds the folder's name instead.

    Returns
    -------
    pathlib.Path
        The link (or ``latest.txt``).

    Raises
    ------
    InputError
        If ``latest`` cannot be replaced (it is a folder, say); the run's folder stays.
    """
    parent = Path(parent)
    link = parent / LATEST
    tmp = parent / f".{LATEST}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        os.symlink(name, tmp, target_is_directory=True)
    except (OSError, NotImplementedError):
        path = parent / f"{LATEST}.txt"
        atomic_write(path, lambda handle: handle.write(name + "\n"))
        return path
    try:
        os.replace(tmp, link)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise InputError(
                f"{str(parent / name)!r} is written, but {str(link)!r} cannot point at it: "
                f"{_reason(exc)}"
            ) from None
        raise
    return link


def find_latest(parent: str | os.PathLike[str]) -> Path | None:
    """The folder ``parent/latest`` points at (or ``latest.txt`` names), if there is one."""
    parent = Path(parent)
    link = parent / LATEST
    if link.is_symlink():
        return parent / os.readlink(link)
    if link.is_dir():
        return link
    with contextlib.suppress(OSError, UnicodeDecodeError):
        name = (parent / f"{LATEST}.txt").read_text().strip()
        if name and Path(name).name == name:
            return parent / name
    return None

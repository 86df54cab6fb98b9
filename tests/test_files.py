"""Output files: strict JSON, sets of files replaced together, run folders and ``latest``."""

from __future__ import annotations

import errno
import json
import math
import os
import re
from pathlib import Path

import pytest

from foldrace.errors import InputError
from foldrace.files import (
    LATEST,
    WriteError,
    atomic_files,
    find_latest,
    publish_dir,
    read_json,
    set_latest,
    strict_json,
    write_json,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "foldrace"


def _refuse(token: str):
    raise AssertionError(f"not strict JSON: {token}")


def strict_load(path: Path):
    """Parse ``path``, failing on the NaN and Infinity that strict JSON does not have."""
    return json.loads(path.read_text(), parse_constant=_refuse)


class FailingHandle:
    """A file handle whose every write raises ``error``."""

    def __init__(self, handle, error: BaseException) -> None:
        self._handle, self._error = handle, error

    def write(self, data):
        raise self._error

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._handle.close()


def fail_on_file(monkeypatch, number: int, error: BaseException) -> list[int]:
    """Make writes to the ``number``-th file opened from now on raise ``error``."""
    real = os.fdopen
    opened: list[int] = []

    def fdopen(fd, *args, **kwargs):
        handle = real(fd, *args, **kwargs)
        opened.append(fd)
        return FailingHandle(handle, error) if len(opened) == number else handle

    monkeypatch.setattr(os, "fdopen", fdopen)
    return opened


def leftovers(folder: Path) -> list[Path]:
    """Temporary files or folders anywhere under ``folder``."""
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def test_strict_json_maps_non_finite_floats_to_null():
    data = {"a": math.nan, "b": [1.5, math.inf, (-math.inf, 2)], "c": {"d": math.nan}, "e": "x"}
    assert strict_json(data) == {"a": None, "b": [1.5, None, [None, 2]], "c": {"d": None}, "e": "x"}


def test_write_json_never_writes_nan_or_infinity(tmp_path):
    path = write_json(tmp_path / "x.json", {"score": math.nan, "times": [math.inf, 0.5]})
    assert strict_load(path) == {"score": None, "times": [None, 0.5]}
    assert not leftovers(tmp_path)


def test_every_json_file_is_written_through_write_json():
    writers = [
        f"{path.name}:{number}"
        for path in SRC.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bjson\.dumps?\(", line) and path.name != "files.py"
    ]
    assert writers == []


@pytest.mark.parametrize(
    "error",
    [
        KeyboardInterrupt(),
        SystemExit(1),
        OSError(errno.ENOSPC, "No space left on device"),
    ],
    ids=["ctrl-c", "exit", "disk-full"],
)
def test_a_set_of_files_is_replaced_together_or_not_at_all(tmp_path, monkeypatch, error):
    names = ("a.csv", "b.csv", "c.json")
    for name in names:
        (tmp_path / name).write_text("old")
    fail_on_file(monkeypatch, 3, error)
    expected = WriteError if isinstance(error, OSError) else type(error)

    def write_all() -> None:
        with atomic_files() as files:
            for name in names:
                files.write(tmp_path / name, lambda handle: handle.write("new"))

    with pytest.raises(expected) as raised:
        write_all()
    if isinstance(error, OSError):
        assert "No space left on device" in str(raised.value)
        assert "c.json" in str(raised.value)
    assert [(tmp_path / name).read_text() for name in names] == ["old"] * 3
    assert not leftovers(tmp_path)


def test_publish_dir_appears_complete_under_a_new_name(tmp_path):
    seen = []

    def write(folder: Path) -> None:
        seen.append(sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")))
        (folder / "results.json").write_text("{}")

    first = publish_dir(tmp_path, "run-1", write)
    second = publish_dir(tmp_path, "run-1", write)
    assert (first.name, second.name) == ("run-1", "run-1-2")
    assert seen == [[], ["run-1"]]  # the folder is not visible while being written
    assert (first / "results.json").read_text() == "{}"
    assert oct(first.stat().st_mode & 0o777) == oct(0o777 & ~_umask())
    assert not leftovers(tmp_path)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@pytest.mark.parametrize(
    ("error", "expected"),
    [(KeyboardInterrupt(), KeyboardInterrupt), (OSError(errno.ENOSPC, "full"), WriteError)],
)
def test_publish_dir_leaves_nothing_when_stopped(tmp_path, error, expected):
    def write(folder: Path) -> None:
        (folder / "half.csv").write_text("x")
        raise error

    with pytest.raises(expected, match=None if expected is KeyboardInterrupt else "run-1"):
        publish_dir(tmp_path, "run-1", write)
    assert list(tmp_path.iterdir()) == []


def test_latest_is_a_relative_link_replaced_in_one_step(tmp_path):
    for name in ("run-a", "run-b"):
        (tmp_path / name).mkdir()
    set_latest(tmp_path, "run-a")
    link = set_latest(tmp_path, "run-b")
    assert link == tmp_path / LATEST
    assert os.readlink(link) == "run-b"
    assert find_latest(tmp_path) == tmp_path / "run-b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "run-a", "run-b"]


def test_latest_falls_back_to_a_text_file_without_symlinks(tmp_path, monkeypatch):
    (tmp_path / "run-a").mkdir()

    def no_symlinks(*args, **kwargs):
        raise OSError(errno.EPERM, "symbolic links are not available")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    assert set_latest(tmp_path, "run-a") == tmp_path / "latest.txt"
    assert find_latest(tmp_path) == tmp_path / "run-a"
    assert find_latest(tmp_path / "run-a") is None


@pytest.mark.parametrize("content", [b"", b"\n", b"\xff\xfe not text", b"../elsewhere\n", b"a/b\n"])
def test_a_latest_txt_that_names_no_folder_here_is_no_latest_run(tmp_path, content):
    (tmp_path / "latest.txt").write_bytes(content)
    assert find_latest(tmp_path) is None


def test_a_file_that_is_not_json_is_named_in_one_line(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("{nope")
    with pytest.raises(InputError, match=f"^{re.escape(repr(str(path)))} is not valid JSON: "):
        read_json(path)

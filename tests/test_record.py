"""The script that records the docs' outputs from real tutorial runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import load_script

SCRIPT = Path(__file__).resolve().parent.parent / "docs" / "record.py"


def _record():
    return load_script(SCRIPT, "record")


def test_every_recorded_output_belongs_to_a_tutorial():
    record = _record()
    tutorials = {path.stem for path in record.TUTORIALS.glob("[0-9][0-9]_*.py")}
    recorded = {path.stem for path in record.OUTPUTS.glob("[0-9][0-9]_*.txt")}
    assert recorded <= tutorials


def test_an_unknown_tutorial_number_is_refused_before_anything_runs(monkeypatch):
    record = _record()
    ran = []
    monkeypatch.setattr(record, "record", ran.append)
    with pytest.raises(SystemExit, match="unknown tutorial number"):
        record.main(["05", "99"])
    assert ran == []


def test_the_readme_holds_one_sample_output_block():
    record = _record()
    text = record.README.read_text()
    assert text.count(record.BEGIN) == 1
    assert text.count(record.END) == 1
    assert text.index(record.BEGIN) < text.index(record.END)


def test_the_sample_block_keeps_what_foldrace_run_printed():
    record = _record()
    printed = "Workload: w\ntable\nWrote a.csv, b.png\n/tmp/x/latest -> run-1\nEnd.\n"
    block = record.sample_block(printed, 12.34, "a test machine")
    assert block.startswith(record.BEGIN + "\n`foldrace run` on a test machine, 12.3 s:")
    assert "Workload: w\ntable\nEnd.\n```" in block
    assert "Wrote" not in block
    assert block.endswith(record.END)

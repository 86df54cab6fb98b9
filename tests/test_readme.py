"""The README stays true: its executor table is the registry's, its commands are real."""

from __future__ import annotations

import re
from pathlib import Path

from foldrace import EXECUTORS
from foldrace.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_executor_table_matches_the_registry():
    rows = re.findall(r"^\| `(\w+)` \| (.+) \|$", README, flags=re.MULTILINE)
    assert rows == [(name, cls.summary) for name, cls in EXECUTORS.items()]


def test_the_two_commands_are_stated():
    assert "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/foldrace run" in README
    test = '.venv/bin/pip install -e ".[test]" && .venv/bin/python -m pytest -n 2 --dist loadfile'
    assert f"\n{test}\n" in README
    assert f"\n{test}\n" in (ROOT / "docs" / "index.md").read_text()  # the same on the site
    ci = (ROOT / ".ci" / "run").read_text()  # and CI runs exactly it (pip told to be quiet)
    assert f"\n{test.replace('install -e', 'install --quiet -e')}\n" in ci


def test_every_foldrace_command_in_the_readme_parses():
    parser = build_parser()
    blocks = "\n".join(re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL))
    commands = re.findall(r"^(?:\.venv/bin/)?foldrace ([^&#\n]*)", blocks, flags=re.MULTILINE)
    assert len(commands) >= 10
    for line in commands:
        args = [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', line)]
        parser.parse_args(args)  # exits with code 2 on an unknown option

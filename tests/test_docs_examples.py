"""Every Python example written out in the README and the docs pages runs as shown.

Code included from ``tutorials/`` (``--8<--`` lines) is run by the tutorials' own tests;
the examples here are the ones written into the pages themselves. Each runs as a script
of its own, in a fresh folder, as a reader would paste it into a file.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def examples() -> list[tuple[str, str]]:
    """(where, code) for every Python block that is not included from a file."""
    found = []
    for page in PAGES:
        for number, code in enumerate(BLOCK.findall(page.read_text())):
            if "--8<--" not in code:
                found.append((f"{page.relative_to(ROOT)}#{number}", code))
    return found


def test_the_pages_hold_examples_of_their_own():
    where = {name.split("#")[0] for name, _ in examples()}
    assert {"README.md", "docs/how-to/own-data.md", "docs/how-to/plot.md"} <= where


@pytest.mark.parametrize(("where", "code"), examples(), ids=[name for name, _ in examples()])
def test_every_written_example_runs(tmp_path, where, code):
    script = tmp_path / "example.py"
    script.write_text(code)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=280
    )
    assert done.returncode == 0, f"{where}:\n{done.stderr[-3000:]}"

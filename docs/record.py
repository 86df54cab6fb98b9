"""Record the docs' outputs: run tutorials as the pages show them, save what they print.

Each tutorial runs as ``python tutorials/NN_name.py docs/figures`` from the repository root
(those that draw figures write them there); its standard output, exactly as printed,
becomes ``docs/outputs/NN_name.txt``, which the tutorial's page includes. Nothing is edited
by hand: values that vary from run to run (times, process ids) vary in the recordings too.

Run: ``python docs/record.py [05 07 ...]`` (all tutorials if none are named). Record on a
quiet machine: the pages say which machine recorded them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"
OUTPUTS = ROOT / "docs" / "outputs"
FIGURES = Path("docs") / "figures"


def record(script: Path) -> Path:
    """Run one tutorial script and write what it printed; return the output file."""
    done = subprocess.run(
        [sys.executable, str(script.relative_to(ROOT)), str(FIGURES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{script.name} failed ({done.returncode}):\n{done.stderr}")
    output = OUTPUTS / f"{script.stem}.txt"
    output.write_text(done.stdout)
    return output


def main(argv: list[str] | None = None) -> list[Path]:
    """Record the tutorials named by number (``05``), or all of them."""
    wanted = sys.argv[1:] if argv is None else argv
    scripts = sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))
    chosen = [s for s in scripts if not wanted or s.name[:2] in wanted]
    if wanted and len(chosen) != len(set(wanted)):
        known = ", ".join(s.name[:2] for s in scripts)
        raise SystemExit(f"unknown tutorial number in {wanted}; known: {known}")
    written = []
    for script in chosen:
        written.append(record(script))
        print(f"recorded {written[-1].relative_to(ROOT)}", flush=True)
    return written


if __name__ == "__main__":
    main()

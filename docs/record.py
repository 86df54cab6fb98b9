"""Record the docs' outputs: run tutorials as the pages show them, save what they print.

Each tutorial runs as ``python tutorials/NN_name.py docs/figures`` from the repository root
(those that draw figures write them there); its standard output, exactly as printed,
becomes ``docs/outputs/NN_name.txt``, which the tutorial's page includes. Nothing is edited
by hand: values that vary from run to run (times, process ids) vary in the recordings too.

``run`` records ``foldrace run`` itself, the README's sample output: the table and
scores it prints go between the README's ``sample-output`` markers, with the time it
took.

Run: ``python docs/record.py [run 05 07 ...]`` (everything if none are named). Record on a
quiet machine: the pages say which machine recorded them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"
OUTPUTS = ROOT / "docs" / "outputs"
FIGURES = Path("docs") / "figures"
README = ROOT / "README.md"
BEGIN, END = "<!-- sample-output -->", "<!-- /sample-output -->"


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


def sample_block(printed: str, seconds: float, machine: str) -> str:
    """The README's sample-output block: where it ran, how long, and what it printed."""
    shown = "\n".join(  # leave out the temporary folder's file names
        line
        for line in printed.splitlines()
        if not line.startswith("Wrote ") and "latest -> run-" not in line
    )
    return (
        f"{BEGIN}\n`foldrace run` on {machine}, {seconds:.1f} s:\n\n```text\n"
        f"{shown.strip()}\n```\n{END}"
    )


def record_run() -> Path:
    """Run ``foldrace run`` as the README shows it; put what it printed into the README."""
    from foldrace.machine import describe_machine, machine_caption

    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "foldrace", "run", "--out", out],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"foldrace run failed ({done.returncode}):\n{done.stderr}")
    machine = f"a {machine_caption(describe_machine())} machine"
    text = README.read_text()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no {BEGIN} ... {END} block")
    README.write_text(pattern.sub(lambda _: sample_block(done.stdout, seconds, machine), text))
    return README


def main(argv: list[str] | None = None) -> list[Path]:
    """Record ``run`` and the tutorials named by number (``05``), or everything."""
    wanted = sys.argv[1:] if argv is None else argv
    scripts = sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))
    numbers = [w for w in wanted if w != "run"]
    known = [s.name[:2] for s in scripts]
    if any(number not in known for number in numbers):
        raise SystemExit(f"unknown tutorial number in {wanted}; known: run, {', '.join(known)}")
    written = []
    if not wanted or "run" in wanted:
        written.append(record_run())
        print("recorded the README's sample output", flush=True)
    for script in scripts:
        if not wanted or script.name[:2] in numbers:
            written.append(record(script))
            print(f"recorded {written[-1].relative_to(ROOT)}", flush=True)
    return written


if __name__ == "__main__":
    main()

"""Mutation score of the pure core: run mutmut, count the mutants the fast tests kill.

The files to mutate and the tests to run are configured in pyproject.toml
(``[tool.mutmut]``); :data:`SCOPE` picks the functions of those files that count: the
bound and makespan code, the schedule model, score averaging and the identical-score
check, the ``--model``, ``--param``, ``--data`` and executor-label parsing, and results
reading and validation. Run from the repository root::

    python tests/mutation_score.py

It starts from an empty ``mutants/`` folder, runs ``mutmut run --max-children 1`` on the
functions in scope, prints the score per module and every surviving mutant, and exits 1
when less than :data:`MINIMUM` of the mutants are killed. The survivors known to be
equivalent (no test can tell them apart) are explained in ``tests/mutation-survivors.md``;
any other survivor is printed as new.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SURVIVORS = ROOT / "tests" / "mutation-survivors.md"

MINIMUM = 0.90
"""The least fraction of mutants in scope that the tests must kill."""

SCOPE = {
    "foldrace.bounds": ["*"],
    "foldrace.schedule": ["*"],
    "foldrace.loaders": ["*"],
    "foldrace.executors.labels": ["*"],
    "foldrace.results": [
        "xǁScoreCheckǁdescribe",
        "xǁRaceResultǁaverages",
        "xǁRaceResultǁcheck",
        "xǁRaceResultǁfrom_dict",
        "xǁRaceResultǁread",
        "x_find_results",
        "x_validate_results",
        "x__meta_problem",
        "x__record_problem",
        "x__shown",
        "x__is_int",
        "x__is_number",
        "x__text",
        "x__granularity",
        "x__integer",
        "x__seconds",
        "x__schedule",
        "x__clock",
        "x__score",
    ],
    "foldrace.files": ["x_read_json", "x_find_latest"],
    "foldrace.benchjson": ["x_read_benchmark_json", "x__entry_problem", "x__durations"],
}
"""Functions in scope, by module: mutmut's names for them (``x_`` and the function's name,
or ``xǁClassǁmethod``); ``*`` for every function of the module."""

KILLED = {"killed", "timeout"}
"""Outcomes that count as killed: a test failed, or the mutant never finished (a loop)."""


def patterns() -> list[str]:
    """Glob patterns of the mutant names in scope."""
    return [f"{module}.{name}__mutmut_*" for module, names in SCOPE.items() for name in names]


def module_of(mutant: str) -> str:
    """The module a mutant name belongs to: everything before its function's name."""
    return re.sub(r"\.xǁ?[^.]*$", "", mutant)


def outcomes() -> dict[str, str]:
    """Each mutant in scope and its outcome, from ``mutmut results --all true``."""
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    found = {}
    for line in done.stdout.splitlines():
        name, sep, outcome = line.strip().rpartition(": ")
        if sep and any(fnmatch.fnmatchcase(name, p) for p in patterns()):
            found[name] = outcome
    return found


def known_survivors() -> set[str]:
    """The mutant names that tests/mutation-survivors.md explains as equivalent."""
    if not SURVIVORS.is_file():
        return set()
    return set(re.findall(r"`(foldrace\.[^`]+__mutmut_\d+)`", SURVIVORS.read_text()))


def report(found: dict[str, str]) -> float:
    """Print the score per module and the survivors; return the overall score."""
    total, killed = Counter(), Counter()
    for name, outcome in found.items():
        total[module_of(name)] += 1
        killed[module_of(name)] += outcome in KILLED
    width = max(map(len, total))
    for module in sorted(total):
        share = killed[module] / total[module]
        print(f"{module:<{width}}  {killed[module]:>4} / {total[module]:<4} {share:6.1%}")
    score = sum(killed.values()) / max(sum(total.values()), 1)
    print(f"{'total':<{width}}  {sum(killed.values()):>4} / {sum(total.values()):<4} {score:6.1%}")
    known = known_survivors()
    survivors = sorted(name for name, outcome in found.items() if outcome not in KILLED)
    new = [name for name in survivors if name not in known]
    print(f"\n{len(survivors)} survivors, {len(survivors) - len(new)} explained as equivalent")
    for name in new:
        print(f"  new: {name} ({found[name]}): see `mutmut show {name}`")
    return score


def main(argv: list[str] | None = None) -> int:
    """Run mutmut on the functions in scope and check the score."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep", action="store_true", help="reuse mutants/ and its test stats from an earlier run"
    )
    parser.add_argument(
        "--report-only", action="store_true", help="only report the last run's outcomes"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    if not args.report_only:
        if not args.keep:
            shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        command = [sys.executable, "-m", "mutmut", "run", "--max-children", "1", *patterns()]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            print(done.stdout[-4000:], done.stderr[-4000:], sep="\n")
            return done.returncode
    score = report(outcomes())
    print(f"\n{time.monotonic() - started:.0f} s; at least {MINIMUM:.0%} must be killed")
    return 0 if score >= MINIMUM else 1


if __name__ == "__main__":
    sys.exit(main())

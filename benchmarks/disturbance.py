"""How often a race flags its cells as disturbed, on a quiet machine and beside a busy one.

Races the blog's five strategies on the blog's workload (1 up to the usable CPUs, 5
rounds) a number of times, first alone, then with one CPU-bound process running beside
it, and counts the cells marked disturbed. It also checks the promise behind the flag: no
cell that is *not* flagged shows a speedup above its worker count or its bound by more
than the spread of its repeats.

Run: ``python benchmarks/disturbance.py [--races 3] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import warnings

import pandas as pd

from foldrace import default_workload, race
from foldrace.executors import BLOG_STRATEGIES

BUSY = "while True: pass"


def flagged(races: int, repeats: int) -> pd.DataFrame:
    """One row per race: cells, disturbed cells, and unflagged cells above their limit."""
    rows = []
    for _ in range(races):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            summary = race(default_workload(), BLOG_STRATEGIES, repeats=repeats).summary()
        cells = summary[summary["executor"] != "serial"]
        limit = cells[["workers", "bound"]].min(axis=1)
        spread = cells["speedup_high"] - cells["speedup_low"]
        impossible = cells[(cells["speedup"] - limit > spread) & ~cells["disturbed"]]
        rows.append(
            {
                "cells": len(cells),
                "disturbed": int(cells["disturbed"].sum()),
                "unflagged above the limit": len(impossible),
                "highest unflagged speedup / limit": float(
                    (cells["speedup"] / limit)[~cells["disturbed"]].max()
                ),
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Race quietly, then beside a busy process; print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--races", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    tables = {"quiet": flagged(args.races, args.repeats)}
    busy = subprocess.Popen([sys.executable, "-c", BUSY])
    try:
        tables["one CPU busy"] = flagged(args.races, args.repeats)
    finally:
        busy.kill()
        busy.wait()
    for name, table in tables.items():
        print(f"{name}:\n{table.to_string(index=False)}\n")
    return tables


if __name__ == "__main__":
    main()

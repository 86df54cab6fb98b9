"""Where the speedup went, for the docs: each executor's worker-seconds at 2 workers.

Races the default workload (the blog's five strategies, 1 and 2 workers, 3 repeats) and
the large one (20000 samples, 2 workers, 2 repeats), or reads the results of earlier
``foldrace run`` folders, and writes a Markdown table of
:func:`foldrace.accounting.account` for each executor at 2 workers: ``2 x wall`` and each
part in seconds and as a share of it, with the machine and its load during the race.

Run: ``python benchmarks/accounting_table.py [--default DIR] [--large DIR]
[--markdown docs/outputs/accounting.md] [--figures docs/figures]`` (the figures: the
default race's ``accounting.png`` and ``.svg``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from foldrace import RaceResult, default_workload, race
from foldrace.accounting import PARTS, account
from foldrace.machine import machine_caption
from foldrace.plots import plot_accounting, write_figure

WORKERS = 2
LARGE = 20_000
HEADERS = {
    "serial_s": "tasks at serial speed",
    "contention_s": "contention",
    "pool_s": "start-up + shutdown",
    "gaps_s": "dispatch gaps",
    "idle_s": "idle at the end",
}


def load_range(result: RaceResult) -> str:
    """The lowest and highest 1-minute load average recorded around the race's rounds."""
    loads = [
        state["load"]
        for row in result.meta.get("rounds", [])
        for state in (row.get("before", {}), row.get("after", {}))
        if state.get("load") is not None
    ]
    if not loads:
        return "not recorded"
    low, high = min(loads), max(loads)
    return f"{low:.2f}" if low == high else f"{low:.2f} to {high:.2f}"


def markdown(result: RaceResult, title: str) -> str:
    """One workload's table: executor, wall, ``workers x wall`` and the parts."""
    table = account(result)
    table = table[(table["workers"] == WORKERS) & (table["granularity"] == "fold")]
    lines = [
        f"**{title}**",
        "",
        "| executor | wall s | 2 × wall s | " + " | ".join(HEADERS[p] for p in PARTS) + " |",
        "|---|--:|--:|" + "--:|" * len(PARTS),
    ]
    for row in table.itertuples():
        cells = [
            f"{getattr(row, part):.3f} ({getattr(row, part) / row.total_s:.0%})" for part in PARTS
        ]
        lines.append(
            f"| `{row.executor}` | {row.wall_s:.3f} | {row.total_s:.3f} | "
            + " | ".join(cells)
            + " |"
        )
    meta = result.meta
    machine = machine_caption(meta["machine"]) if meta.get("machine") else "unknown machine"
    lines += [
        "",
        f"{meta.get('workload', {}).get('description', '')}. Each cell's median repeat of "
        f"{meta.get('repeats', '?')} (the faster middle one of an even count). Machine: "
        f"{machine}; 1-minute load average around the rounds: {load_range(result)}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    """Race (or read) both workloads; print the tables, and save them as Markdown if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--default", type=Path, help="results of the default race to read")
    parser.add_argument("--large", type=Path, help=f"results of a --samples {LARGE} race")
    parser.add_argument("--repeats-large", type=int, default=2, help="repeats of the large race")
    parser.add_argument("--markdown", type=Path, help="also write the tables as Markdown here")
    parser.add_argument(
        "--figures", type=Path, help="also draw the default race's accounting.png/.svg here"
    )
    args = parser.parse_args(argv)
    default = RaceResult.read(args.default) if args.default else race(progress=True)
    large = (
        RaceResult.read(args.large)
        if args.large
        else race(
            default_workload(n_samples=LARGE),
            workers=[WORKERS],
            repeats=args.repeats_large,
            progress=True,
        )
    )
    text = "\n\n".join(
        [
            markdown(default, "The default race (1000 samples)"),
            markdown(large, f"The large workload ({LARGE} samples)"),
        ]
    )
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    if args.figures:
        write_figure(plot_accounting(default), args.figures, "accounting")
    return text


if __name__ == "__main__":
    main()

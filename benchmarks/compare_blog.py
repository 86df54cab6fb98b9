"""foldrace's executors against the blog's hand-written loops: same strategy, same run.

Each round times the blog's code and foldrace's executor for the same strategy back to
back (pool start-up, dispatch, compute and shutdown together, as the blog's code cannot
separate them), alternating which goes first. Prints medians and the overhead ratio.

Run: ``python benchmarks/compare_blog.py [--rounds 15] [--workers 2] [--samples 1000]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from foldrace import benchmark_fold, default_workload, get_executor
from foldrace.blog import run_apply_async, run_starmap


def _foldrace(name: str, workers: int, workload) -> list:
    with get_executor(name)(workers).bind(workload.common_args) as executor:
        return executor.run(benchmark_fold, workload.tasks())


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Time both sides per strategy; return medians (seconds) and overhead ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args(argv)

    workload = default_workload(n_samples=args.samples)
    X, y, folds = workload.X, workload.y, list(workload.folds)
    blog = {"starmap": run_starmap, "apply_async": run_apply_async}
    report = {}
    for strategy, blog_run in blog.items():
        sides = {
            "blog": lambda run=blog_run: run(X, y, folds, args.workers),
            "foldrace": lambda s=strategy: _foldrace(s, args.workers, workload),
        }
        times: dict[str, list[float]] = {side: [] for side in sides}
        for side in sides:  # warm-up
            sides[side]()
        for round_ in range(args.rounds):
            order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
            for side in order:
                start = time.perf_counter()
                sides[side]()
                times[side].append(time.perf_counter() - start)
        medians = {side: statistics.median(t) for side, t in times.items()}
        ratio = medians["foldrace"] / medians["blog"]
        per_round = np.array(times["foldrace"]) / np.array(times["blog"])
        report[strategy] = {
            **medians,
            "ratio": ratio,
            "median_round_ratio": float(np.median(per_round)),
        }
        print(
            f"{strategy:<12} workers={args.workers}  blog {medians['blog']:.4f} s  "
            f"foldrace {medians['foldrace']:.4f} s  ratio {ratio:.3f} "
            f"(median of per-round ratios {np.median(per_round):.3f}, {args.rounds} rounds)"
        )
    return report


if __name__ == "__main__":
    main()

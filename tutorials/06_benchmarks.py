# %% [markdown]
# # Tutorial 06: pytest-benchmark comparisons, and speedup curves from their JSON
#
# The suite in `benchmarks/` times every executor and the alternatives (the blog's loop,
# `cross_validate(n_jobs=w)`, `joblib.Parallel`) with pytest-benchmark and fails if any
# score differs from serial. Here a small slice of it runs and is plotted.
#
# Run inside a clone of foldrace: `python tutorials/06_benchmarks.py [OUT_DIR] [WORKERS]`
# (worker counts such as `1,2,4`; by default `1,2`)

# %%
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from foldrace.benchjson import benchmark_summary, read_benchmark_json
from foldrace.plots import TUTORIAL_OUT
from foldrace.scripts import script_arguments


# %%
def repository_root() -> Path:
    """The clone of foldrace this runs in: the nearest folder, upwards, holding benchmarks/."""
    here = Path(__file__).parent if "__file__" in globals() else Path.cwd()  # a notebook's cwd
    for folder in (here.resolve(), *here.resolve().parents):
        if (folder / "benchmarks" / "test_race.py").is_file():
            return folder
    raise SystemExit("tutorial 06 runs the benchmarks in benchmarks/: run it inside a clone")


def main(out: str = TUTORIAL_OUT, workers: str = "1,2", rounds: int = 3) -> dict:
    """Benchmark serial, starmap and the blog's loop on the seed workload; plot the JSON.

    ``workers`` is the worker counts to benchmark, as ``FOLDRACE_BENCH_WORKERS`` takes them.
    """
    Path(out).mkdir(parents=True, exist_ok=True)
    json_path = Path(out).resolve() / "bench.json"
    # --8<-- [start:run]
    env = os.environ | {
        "FOLDRACE_BENCH_SIZES": "seed",
        "FOLDRACE_BENCH_ROUNDS": str(rounds),
        "FOLDRACE_BENCH_WORKERS": workers,
    }
    command = [
        sys.executable,
        "-m",
        "pytest",
        "benchmarks/test_race.py",
        "benchmarks/test_baselines.py",
        "-k",
        "serial or starmap or blog",
        f"--benchmark-json={json_path}",
        "-q",
    ]
    subprocess.run(command, cwd=repository_root(), env=env, check=True)
    # --8<-- [end:run]

    # --8<-- [start:plot]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "foldrace",
            "plot",
            "--benchmark-json",
            str(json_path),
            "--out",
            str(Path(out).resolve()),
        ],
        check=True,
    )
    summary = benchmark_summary(read_benchmark_json(json_path))
    # --8<-- [end:plot]
    return {"summary": summary, "figure": Path(out) / "benchmark-speedup.png"}


# %%
if __name__ == "__main__":
    main(*script_arguments()[:2])

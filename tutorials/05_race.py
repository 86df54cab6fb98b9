# %% [markdown]
# # Tutorial 05: the race: every executor, identical scores, speedup curves, the bound
#
# `foldrace.race` runs the one fold function through every executor at every worker count,
# times start-up, dispatch + compute and shutdown apart, checks that every averaged score is
# bitwise identical to serial's, and `plot_speedup` draws the curves against the ideal and
# the granularity bound: three folds on two workers cannot beat 1.5x.
#
# Run: `python tutorials/05_race.py [OUT_DIR]` (writes `race-speedup.png`)

# %%
from __future__ import annotations

from pathlib import Path

from foldrace import default_workload, plot_speedup, race
from foldrace.plots import TUTORIAL_OUT, write_figure
from foldrace.scripts import script_arguments
from foldrace.whatif import plot_whatif


# %%
def main(out: str = TUTORIAL_OUT, n_samples: int = 1000, repeats: int = 3) -> dict:
    """Race all executors on 1..CPUs workers; print the table and the score check."""
    # --8<-- [start:race]
    workload = default_workload(n_samples=n_samples)
    result = race(workload, repeats=repeats, progress=True)
    summary = result.summary()
    print(
        summary[["executor", "workers", "median_s", "speedup", "predicted", "bound"]]
        .round(3)
        .to_string(index=False)
    )
    check = result.check()
    print(check.describe())
    # --8<-- [end:race]

    # --8<-- [start:plot]
    write_figure(plot_speedup(result), out, "race-speedup")  # PNG and SVG
    result.write(Path(out) / "race-results")  # CSV tables and results.json
    # --8<-- [end:plot]

    # --8<-- [start:whatif]
    whatif = plot_whatif(result)  # the schedule model, fed with this race's measurements
    write_figure(whatif, out, "race-whatif")  # predicted to 64 workers, dashed
    # --8<-- [end:whatif]
    return {"identical": check.identical, "summary": summary}


# %%
if __name__ == "__main__":
    main(*script_arguments()[:1])

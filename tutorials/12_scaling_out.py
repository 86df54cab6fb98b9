# %% [markdown]
# # Tutorial 12: scaling out: the same fold function on a Dask cluster
#
# When one machine is not enough, the fold function does not change: only the pool does.
# `submit/dask` is the concurrent.futures strategy through `client.get_executor()`;
# `dask_submit` is Dask's own `Client.submit` with `as_completed`; `joblib/dask` is
# joblib's Dask backend, the route scikit-learn's `n_jobs` takes to a cluster
# (`parallel_config(backend="dask")`). With no scheduler
# address foldrace starts a `LocalCluster` on 127.0.0.1 for the race and stops it after;
# `dask_scheduler="tcp://HOST:PORT"` joins a real cluster instead.
#
# Run: `python tutorials/12_scaling_out.py [OUT_DIR] [tcp://HOST:PORT]`
# (writes `scaling-out.png`; needs `pip install "foldrace[dask]"`)

# %%
from __future__ import annotations

from foldrace import default_workload, plot_speedup, race
from foldrace.plots import TUTORIAL_OUT, write_figure
from foldrace.scripts import script_arguments


# %%
def main(
    out: str = TUTORIAL_OUT,
    scheduler: str | None = None,
    n_samples: int = 1000,
    repeats: int = 3,
) -> dict:
    """Race a local process pool against the same strategies on a Dask cluster."""
    # --8<-- [start:race]
    result = race(
        default_workload(n_samples=n_samples),
        executors=["submit", "submit/dask", "dask_submit", "joblib/dask"],
        data_passing=["task", "shared"],  # shared on Dask: X and y scattered once
        workers=[1, 2],
        repeats=repeats,
        dask_scheduler=scheduler,  # None: a LocalCluster on 127.0.0.1, started here
    )
    print(result.check().describe())
    # --8<-- [end:race]

    # --8<-- [start:costs]
    cluster = result.meta["clusters"]["dask"]
    how = "started" if cluster["embedded"] else "joined"
    print(f"Dask cluster {how} in {cluster['start_s']:.2f} s at {cluster['address']}")
    phases = result.timings[result.timings["workers"] == 2]
    table = phases.groupby("executor", sort=False)[["startup_s", "run_s"]].median() * 1000
    table["speedup"] = result.summary().query("workers == 2").set_index("executor")["speedup"]
    print(table.round(2).rename(columns={"startup_s": "pool ms", "run_s": "run ms"}).to_string())
    # --8<-- [end:costs]

    write_figure(plot_speedup(result), out, "scaling-out")
    return {"identical": result.check().identical, "cluster": cluster, "table": table}


# %%
if __name__ == "__main__":  # LocalCluster starts its workers with spawn: the guard matters
    main(*script_arguments()[:2])

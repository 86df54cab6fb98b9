"""Every tutorial runs as the notebook the docs offer, in a real Jupyter kernel, at a small
size; two also run as real scripts."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import execute_notebook as execute
from conftest import extra, foldrace_command, load_script, printed

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"
NOTEBOOKS = load_script(ROOT / "docs" / "notebooks.py", "docs_notebooks")


def run(
    name: str, tmp_path: Path, cwd: Path | None = None, call: str = "main", **arguments
) -> dict:
    """Run tutorial ``name`` as its notebook, ``call(**arguments)`` in place of its guard.

    The kernel starts in ``cwd`` (by default ``tmp_path``). Returns what ``main`` returned,
    pickled by the kernel into ``tmp_path``.
    """
    notebook = NOTEBOOKS.tutorial_notebook(TUTORIALS / f"{name}.py")
    guard = notebook.cells[-1]
    assert guard.source.startswith('if __name__ == "__main__":'), name
    facts = tmp_path / f"{name}-facts.pickle"
    guard.source = "\n".join(
        [
            "import pickle, sys",
            f"assert sys.prefix == {sys.prefix!r}  # the kernel runs this environment's Python",
            f"facts = {call}(**{arguments!r})",
            f"with open({str(facts)!r}, 'wb') as handle:",
            "    pickle.dump(facts, handle)",
        ]
    )
    execute(notebook, cwd or tmp_path)  # and checks that no process outlives the kernel
    return pickle.loads(facts.read_bytes())


def test_every_tutorial_has_main_and_a_guard():
    scripts = sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))
    assert len(scripts) >= 12
    for script in scripts:
        text = script.read_text()
        assert "def main(" in text, script.name
        assert 'if __name__ == "__main__":' in text, script.name


def test_every_tutorial_is_a_notebook_of_cells():
    scripts = NOTEBOOKS.tutorial_scripts()
    assert len(scripts) >= 13
    for number, script in scripts.items():
        cells = NOTEBOOKS.tutorial_notebook(script).cells
        assert [cell.cell_type for cell in cells] == ["markdown"] + ["code"] * (len(cells) - 1)
        assert len(cells) >= 4, script.name  # the idea; imports; the code; the guard
        assert cells[0].source.startswith(f"# Tutorial {number}: "), script.name
        assert cells[-1].source.startswith('if __name__ == "__main__":'), script.name
        assert "sys.argv" not in cells[-1].source, script.name  # a kernel's are its own


def test_script_arguments_are_the_command_line_s_and_none_in_a_kernel(tmp_path):
    show = "from foldrace.scripts import script_arguments as a, in_notebook as n; print(a(), n())"
    done = subprocess.run(
        [sys.executable, "-c", show, "out", "1000"], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["['out',", "'1000']", "False"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(show)])
    execute(notebook, tmp_path)
    assert printed(notebook.cells[0]).split() == ["[]", "True"]


def test_01_serial_scores_match_foldrace(tmp_path):
    facts = run("01_serial", tmp_path, n_samples=300)
    assert facts["same"] is True
    assert set(facts["averages"]) == {"logit", "rf"}


def test_02_apply_never_runs_two_tasks_at_once(tmp_path):
    facts = run("02_apply", tmp_path, out=str(tmp_path), n_samples=300)
    assert facts["overlap"] is False
    assert (tmp_path / "apply-timeline.png").stat().st_size > 0


def test_03_callbacks_show_completion_order_and_the_silent_loss(tmp_path):
    facts = run("03_apply_async", tmp_path, n_samples=600)
    assert facts["sorted"] == [0, 1, 2]
    assert facts["completion_order"] != [0, 1, 2]  # fold 0 is the slowest
    assert facts["lost"] == 1  # three tasks, two results, no error
    assert "fold 2, model 'slow': ValueError" in facts["message"]


def test_04_map_and_starmap_agree_and_measure_both_chunkings(tmp_path):
    facts = run("04_map_starmap", tmp_path, n_samples=300, n_trivial=400)
    assert facts["agree"] is True
    per_task = facts["per_task"]  # timings are for benchmarks, not asserted here
    assert set(per_task) == {(e, v) for e in ("map", "starmap") for v in ("default", "chunksize=1")}
    assert all(value > 0 for value in per_task.values())


def test_05_race_has_identical_scores(tmp_path):
    facts = run("05_race", tmp_path, out=str(tmp_path), n_samples=300, repeats=1)
    assert facts["identical"] is True
    assert (tmp_path / "race-speedup.png").stat().st_size > 0
    assert (tmp_path / "race-whatif.png").stat().st_size > 0
    assert (tmp_path / "race-results" / "results.json").exists()


def test_06_benchmarks_run_and_plot_and_try_it_side_by_side(tmp_path):
    two, three = tmp_path / "bench-2", tmp_path / "bench-3"
    facts = run("06_benchmarks", tmp_path, cwd=TUTORIALS, out=str(two), rounds=1)
    assert {"serial", "starmap", "blog apply_async"} <= set(facts["summary"]["executor"])
    assert set(facts["summary"]["workers"]) == {1, 2}
    assert facts["figure"].stat().st_size > 0
    # Try it: a second run with more workers than this machine's CPUs, plotted beside it
    more = run("06_benchmarks", tmp_path, cwd=TUTORIALS, out=str(three), workers="1,2,3", rounds=1)
    assert set(more["summary"]["workers"]) == {1, 2, 3}
    files = [str(two / "bench.json"), str(three / "bench.json")]
    done = foldrace_command("plot", "--benchmark-json", *files, "--out", str(tmp_path / "compare"))
    assert done.returncode == 0, done.stderr
    assert [p.suffix for p in sorted((tmp_path / "compare").iterdir())] == [".png", ".svg"]


def test_01_try_it_four_and_six_folds(tmp_path):
    for n_splits in (4, 6):
        facts = run("01_serial", tmp_path, n_samples=300, n_splits=n_splits)
        assert facts["same"] is True  # foldrace's part uses the same folds
        assert facts["folds"] == n_splits
        assert 1.0 <= facts["bound"] <= 2.0


def test_02_try_it_four_processes_still_one_task_at_a_time(tmp_path):
    facts = run("02_apply", tmp_path, out=str(tmp_path), n_samples=300, processes=4)
    assert facts["overlap"] is False


def test_03_try_it_nothing_fails_so_nothing_is_lost(tmp_path):
    facts = run("03_apply_async", tmp_path, n_samples=600, fail_below=0)
    assert facts["lost"] == 0
    assert sorted(facts["collected_order"]) == [0, 1, 2]
    assert facts["message"] == "every fold ran"


def test_04_try_it_one_chunk_keeps_one_worker_busy(tmp_path):
    facts = run("04_map_starmap", tmp_path, n_samples=300, n_trivial=400, chunksize=3)
    assert facts["processes"] == 1


def test_05_try_it_per_fold_and_model_with_timelines(tmp_path):
    command = [
        "run",
        "--granularity",
        "fold",
        "fold-model",
        "--timeline",
        "--samples",
        "300",
        "--repeats",
        "1",
    ]
    done = foldrace_command(*command, "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Granularity bound of 3 tasks per fold (" in done.stdout
    assert "Granularity bound of 6 tasks per fold-model (" in done.stdout
    assert list((tmp_path / "latest").glob("timeline*.png"))


def test_07_faults_are_reported_not_hidden(tmp_path):
    facts = run("07_faults", tmp_path, n_samples=300, patience=1.0)
    assert facts["raw_hang"] is True  # the stdlib pool was still waiting
    assert "died (exit code 1)" in facts["died"]
    assert "after the 0.5 s timeout" in facts["timeout"]
    assert facts["identical"] is False
    assert "cannot be pickled" in facts["pickle"]


def test_07_try_it_every_executor_names_its_dead_worker(tmp_path):
    reports = run("07_faults", tmp_path, call="every_executor", how="kill")
    for label, report in reports.items():
        if "/thread" in label:
            assert report.startswith("skipped"), label
        else:
            assert f"executor '{label}' (workers=2) failed" in report, report
            assert "killed by signal 9" in report, report
    assert {"starmap", "submit", "joblib", "gridsearch"} <= set(reports)


@pytest.mark.parametrize("start_method", ["spawn"])
def test_a_tutorial_runs_as_a_real_script_under_spawn(tmp_path, start_method):
    """The ``__main__`` guard matters under spawn: workers re-import the script."""
    code = (
        "import multiprocessing, runpy, sys;"
        f"multiprocessing.set_start_method({start_method!r});"
        f"sys.argv = [{str(TUTORIALS / '03_apply_async.py')!r}];"
        f"runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "callback only: 3 tasks, 2 results, no error" in done.stdout


def test_a_tutorial_runs_as_a_plain_script(tmp_path):
    done = subprocess.run(
        [sys.executable, str(TUTORIALS / "02_apply.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "apply ever ran two tasks at once: False" in done.stdout
    assert (tmp_path / "apply-timeline.png").exists()


def test_08_threads_race_every_strategy_on_processes_and_threads(tmp_path):
    facts = run("08_threads", tmp_path, out=str(tmp_path), n_samples=300, repeats=1)
    assert facts["identical"] is True
    expected = {f"{s}{p}" for s in ("starmap", "submit", "apply_async") for p in ("", "/thread")}
    assert set(facts["speedup"]) == expected
    assert (tmp_path / "threads-speedup.png").stat().st_size > 0


def test_08_try_it_a_gradient_boosting_model_on_threads_and_processes(tmp_path):
    facts = run("08_threads", tmp_path, out=str(tmp_path), n_samples=300, repeats=1, hgb=True)
    assert facts["identical"] is True
    assert {"starmap", "starmap/thread"} <= set(facts["speedup"])


def test_09_start_methods_each_give_the_same_scores(tmp_path):
    facts = run("09_start_methods", tmp_path, out=str(tmp_path), n_samples=300, repeats=1)
    assert facts["identical"] is True
    labels = {row["executor"] for row in facts["startup_ms"]}
    assert labels == {"starmap"} | {f"starmap/{m}" for m in ("spawn", "forkserver")}
    assert (tmp_path / "start-methods.png").stat().st_size > 0
    shown = [line.split(", pool")[0].strip() for line in facts["preload"]]
    assert shown == ["no preload", "no preload", "preload", "preload"]


def test_09_try_it_two_strategies_under_every_start_method(tmp_path):
    methods = ["fork", "spawn", "forkserver"]
    command = ["run", "--executors", "starmap", "submit", "--start-method", *methods]
    small = ["--workers", "2", "--samples", "300", "--repeats", "1", "--out", str(tmp_path)]
    done = foldrace_command(*command, *small)
    assert done.returncode == 0, done.stderr[-2000:]
    for label in ("starmap", "starmap/spawn", "submit/forkserver"):
        assert any(line.startswith(f"{label} ") for line in done.stdout.splitlines()), label
    assert "Identical averaged scores across executors: yes" in done.stdout


def test_10_moving_data_measures_bytes_and_time_per_mode(tmp_path):
    done = run("10_moving_data", tmp_path, out=str(tmp_path), sizes=(300, 3000), repeats=1)
    table = done["table"]
    assert set(table["executor"]) == {"serial", "starmap", "starmap/worker", "starmap/shared"}
    assert list(table["data"][:4]) == ["-", "task", "worker", "shared"]
    bars = {tick.get_text() for ax in done["figure"].axes for tick in ax.get_yticklabels()}
    assert {"serial", "starmap/task", "starmap/worker", "starmap/shared"} <= bars
    big = table[table["samples"] == 3000].set_index("executor")
    assert big.loc["starmap", "bytes per task"] > 3000 * 20 * 8  # X travels with each task
    assert big.loc["starmap/worker", "bytes per task"] < big.loc["starmap", "bytes per task"]
    assert big.loc["starmap/worker", "bytes per worker"] == 0  # inherited under fork
    assert (tmp_path / "data-passing.png").stat().st_size > 0


def test_10_try_it_spawn_pickles_per_worker_and_shows_start_up(tmp_path):
    table = run(
        "10_moving_data",
        tmp_path,
        out=str(tmp_path),
        sizes=(3000,),
        repeats=1,
        executors=("starmap", "starmap/spawn"),
    )["table"].set_index("executor")
    assert {"starmap/worker", "starmap/spawn/worker", "starmap/spawn/shared"} <= set(table.index)
    assert table.loc["starmap/worker", "bytes per worker"] == 0  # fork: inherited
    assert table.loc["starmap/spawn/worker", "bytes per worker"] > 3000 * 20 * 8  # X, pickled
    assert 0 < table.loc["starmap/spawn/shared", "bytes per worker"] < 10_000  # handles only
    assert (table["start-up s"] > 0).all()


def test_11_oversubscription_races_with_and_without_the_limit(tmp_path):
    facts = run("11_oversubscription", tmp_path, out=str(tmp_path), n_samples=600, repeats=1)
    # No limit means the libraries' defaults, as in the kernel itself, even though the
    # fork server started for the limited pool before it limits its own threads to one.
    assert facts["inner"] == {
        "here": facts["inner"]["here"],
        "1": 1,
        "None": facts["inner"]["here"],
    }
    table = facts["table"]
    assert set(table["limit"]) == {"1 per worker", "none (library defaults)"}
    assert set(table["executor"]) == {"serial", "starmap/forkserver"}
    assert (tmp_path / "oversubscription.png").stat().st_size > 0


def test_11_try_it_without_the_limit_ends_and_never_forks_after_openmp(tmp_path):
    model = "hgb=sklearn.ensemble:HistGradientBoostingClassifier(max_iter=50, random_state=0)"
    command = ["run", "--model", model, "--samples", "2000", "--no-blas-limit"]
    small = ["--executors", "starmap", "--workers", "2", "--repeats", "1", "--out", str(tmp_path)]
    # OpenMP threads that spin while they wait can stretch this run from seconds to minutes
    # beside other work (the page says so); sleeping waits keep the test's time bounded.
    quiet = os.environ | {"OMP_WAIT_POLICY": "PASSIVE"}
    done = foldrace_command(*command, *small, env=quiet)  # it ends, or the test fails here
    assert "forkserver" in done.stderr  # fork after the unlimited serial run is replaced
    if done.returncode != 0:  # a run that deadlocked anyway ends as a timeout error
        assert done.returncode == 1, done.stderr[-2000:]
        assert "timeout" in done.stderr, done.stderr[-2000:]
    else:
        assert "starmap/forkserver" in done.stdout


def test_12_scaling_out_races_the_same_function_on_a_local_dask_cluster(tmp_path):
    extra("distributed", "dask")
    facts = run("12_scaling_out", tmp_path, out=str(tmp_path), n_samples=300, repeats=1)
    assert facts["identical"] is True
    assert facts["cluster"]["embedded"] is True
    assert facts["cluster"]["start_s"] > 0
    labels = set(facts["table"].index)
    assert labels == {"submit", "submit/shared", "submit/dask", "submit/dask/shared",
                      "dask_submit", "dask_submit/shared",
                      "joblib/dask", "joblib/dask/shared"}  # fmt: skip
    assert (tmp_path / "scaling-out.png").stat().st_size > 0


def test_13_a_search_selects_what_gridsearchcv_selects(tmp_path):
    small = {"n_samples": 300, "n_estimators": (5, 20), "min_samples_leaf": (1, 20)}
    facts = run("13_search", tmp_path, out=str(tmp_path), n_folds=3, repeats=1, **small)
    assert facts["identical"] is True
    assert facts["same_scores"] is True
    assert facts["same_choice"] is True
    assert facts["n_tasks"] == {"fold-model": 12}  # 4 candidates x 3 folds
    assert {"gridsearch", "cross_validate"} <= set(facts["executors"])  # scores checked too
    assert (tmp_path / "search-timeline.png").stat().st_size > 0


def test_13_try_it_one_task_per_fold(tmp_path):
    small = {"n_samples": 300, "n_estimators": (5, 20), "min_samples_leaf": (1, 20)}
    facts = run(
        "13_search",
        tmp_path,
        out=str(tmp_path),
        n_folds=3,
        repeats=1,
        granularity="fold",
        strategies=("map",),
        **small,
    )
    assert facts["n_tasks"] == {"fold": 3}  # every candidate in each fold's one task
    assert facts["same_choice"] is True

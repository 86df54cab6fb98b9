"""From the benchmark suite's JSON to speedup curves: a real small run of the suite."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from foldrace import InputError
from foldrace.benchjson import benchmark_figure, benchmark_summary, read_benchmark_json
from foldrace.cli import ExitCode, main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench_json(tmp_path_factory) -> Path:
    """Run a slice of ``benchmarks/`` for real: serial and starmap, dispatch, start-up."""
    path = tmp_path_factory.mktemp("bench") / "bench.json"
    env = os.environ | {
        "FOLDRACE_BENCH_SIZES": "seed",
        "FOLDRACE_BENCH_WORKERS": "1,2",
        "FOLDRACE_BENCH_ROUNDS": "1",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "benchmarks",
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "test_race and (serial or starmap) and not thread"
            " or test_dispatch and map or startup and fork",
            f"--benchmark-json={path}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return path


@pytest.mark.processes
def test_reading_the_suite_json(bench_json):
    run = read_benchmark_json(bench_json)
    assert set(run.races["executor"]) == {"serial", "starmap"}
    assert set(run.races["granularity"]) == {"fold", "fold-model"}
    assert run.machine["usable_cpus"] >= 1
    dispatched = set(run.dispatch["executor"])  # "-k map" matches every *map* executor
    assert {"map", "starmap", "map/thread", "futures_map"} <= dispatched
    assert all("map" in name for name in dispatched)
    assert set(run.startup["method"]) >= {"fork"}


@pytest.mark.processes
def test_summary_has_speedup_prediction_and_bound(bench_json):
    summary = benchmark_summary(read_benchmark_json(bench_json))
    serial = summary[summary["executor"] == "serial"]
    assert (serial["speedup"] == 1.0).all()
    starmap = summary[(summary["executor"] == "starmap") & (summary["granularity"] == "fold")]
    assert list(starmap["workers"]) == [1, 2]
    two = starmap[starmap["workers"] == 2].iloc[0]
    assert 1.0 < two["bound"] <= 2.0  # three folds on two workers
    assert two["predicted"] <= two["bound"] + 1e-12  # no schedule beats the best one
    assert two["speedup"] > 0
    assert summary.loc[summary["granularity"] == "fold-model", "n_tasks"].eq(6).all()


@pytest.mark.processes
def test_two_files_side_by_side(bench_json, tmp_path, capsys):
    runs = [read_benchmark_json(bench_json, label) for label in ("before", "after")]
    fig = benchmark_figure(runs)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert any(t.startswith("before: seed") for t in titles)
    assert any(t.startswith("after: seed") for t in titles)
    code = main(
        ["plot", "--benchmark-json", str(bench_json), str(bench_json), "--out", str(tmp_path)]
    )
    assert code == ExitCode.OK
    assert (tmp_path / "benchmark-speedup.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "benchmark-dispatch-bench.png").stat().st_size > 0
    assert "starmap" in capsys.readouterr().out


def _race_entry(info=None, stats=None) -> str:
    """A pytest-benchmark file with one serial race entry, with fields changed."""
    entry = {
        "name": "test_race[serial]",
        "extra_info": {
            "kind": "foldrace.race",
            "executor": "serial",
            "schedule": "sequential",
            "workers": 1,
            "workload": "seed",
            "n_samples": 1000,
            "granularity": "fold",
            "task_durations": [0.1, 0.1, 0.1],
        }
        | (info or {}),
        "stats": {"median": 0.3, "min": 0.3, "max": 0.3, "rounds": 1} | (stats or {}),
    }
    return json.dumps({"benchmarks": [entry]})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (_race_entry({"workers": "two"}), "extra_info.workers must be an integer of at least 1"),
        (_race_entry({"workers": 0}), "extra_info.workers must be an integer of at least 1"),
        (_race_entry({"schedule": "fifo"}), "extra_info.schedule must be a known schedule"),
        (_race_entry({"granularity": 3}), "extra_info.granularity must be one of fold"),
        (_race_entry({"n_samples": "many"}), "extra_info.n_samples must be an integer"),
        (_race_entry({"task_durations": "fast"}), "extra_info.task_durations must be a"),
        (_race_entry(stats={"median": "fast"}), "stats.median must be a finite number"),
        (_race_entry(stats={"rounds": None}), "stats.rounds must be an integer"),
    ],
)
def test_wrongly_typed_benchmark_fields_are_one_line_and_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert main(["plot", "--benchmark-json", str(path), "--out", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert f"'{path}' has a damaged benchmark entry test_race[serial]: {message}" in err
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "f").exists()


def test_a_good_benchmark_entry_plots(tmp_path, capsys):
    path = tmp_path / "good.json"
    path.write_text(_race_entry())
    assert main(["plot", "--benchmark-json", str(path)]) == ExitCode.OK
    assert (tmp_path / "benchmark-speedup.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{nope", "is not valid JSON"),
        ('{"kind": "foldrace.race"}', "is not pytest-benchmark JSON"),
        ('{"benchmarks": []}', "holds no foldrace benchmarks"),
        ('{"benchmarks": [{"extra_info": {"kind": "foldrace.race"}}]}', "damaged benchmark entry"),
    ],
)
def test_bad_json_is_one_line_and_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_benchmark_json(path)
    assert main(["plot", "--benchmark-json", str(path)]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_plot_needs_exactly_one_source(capsys):
    assert main(["plot"]) == ExitCode.BAD_INPUT
    assert "give one of" in capsys.readouterr().err


def test_a_results_json_is_not_benchmark_json(tmp_path, capsys):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"kind": "foldrace.race", "meta": {}}))
    assert main(["plot", "--benchmark-json", str(path)]) == ExitCode.BAD_INPUT


@pytest.mark.processes
def test_a_benchmark_selection_keeps_its_serial_reference():
    root = Path(__file__).resolve().parents[1]
    selection = ["benchmarks/test_race.py", "--collect-only", "-q", "-k", "starmap and fold-model"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *selection],
        capture_output=True,
        text=True,
        cwd=root,
        env=os.environ | {"FOLDRACE_BENCH_SIZES": "seed"},
        timeout=120,
    )
    ids = [line.split("[")[-1].rstrip("]") for line in done.stdout.splitlines() if "[" in line]
    assert ids[0] == "serial-1-seed-fold-model", done.stdout  # put back, first
    assert "serial-1-seed-fold" not in ids  # no granularity that was not selected
    assert all(i.startswith(("starmap", "serial")) for i in ids)


@pytest.mark.processes
def test_benchmark_settings_are_pytest_options_that_win_over_the_environment():
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "benchmarks/test_race.py",
            "--collect-only",
            "-q",
            "--bench-workers",
            "2",
            "--bench-sizes",
            "seed",
            "-k",
            "starmap",
        ],
        capture_output=True,
        text=True,
        cwd=root,
        env=os.environ | {"FOLDRACE_BENCH_WORKERS": "1", "FOLDRACE_BENCH_SIZES": "large"},
        timeout=120,
    )
    ids = [line.split("[")[-1].rstrip("]") for line in done.stdout.splitlines() if "[" in line]
    starmap = [i for i in ids if i.startswith("starmap-")]
    assert starmap == ["starmap-2-seed-fold", "starmap-2-seed-fold-model"], done.stdout
    helped = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks", "--help"],
        capture_output=True, text=True, cwd=root, timeout=120,
    )  # fmt: skip
    assert "foldrace benchmarks:" in helped.stdout
    assert "--bench-data-sizes" in helped.stdout


def _entry(name: str, **info) -> dict:
    """One benchmark entry of pytest-benchmark's JSON, with foldrace's extra_info."""
    stats = {"median": 0.2, "min": 0.1, "max": 0.4, "rounds": 3}
    return {"name": name, "extra_info": info, "stats": stats}


def test_every_kind_of_entry_is_read_into_its_own_table_and_others_are_skipped(tmp_path):
    race = {"executor": "map", "schedule": "chunked", "workers": 2, "workload": "seed"}
    entries = [
        {"name": "not foldrace's", "extra_info": {"kind": "other"}},  # skipped, not the end
        5,
        {"name": "odd info", "extra_info": 3},
        {"name": "odd kind", "extra_info": {"kind": ["foldrace.race"]}},
        _entry("race", kind="foldrace.race", n_samples=1000, granularity="fold", **race),
        _entry("dispatch", kind="foldrace.dispatch", executor="map", variant="v", workers=2,
               n_tasks=10),
        _entry("startup", kind="foldrace.startup", method="fork", workers=2, start_s=0.1,
               stop_s=0.2),
        _entry("axes", kind="foldrace.axes", executor="map/shared", workers=2),
    ]  # fmt: skip
    machine = {"usable_cpus": 2, "cpu_model": "test"}
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"benchmarks": entries, "machine_info": {"foldrace": machine}}))
    run = read_benchmark_json(path)
    assert run.label == "bench.json"
    assert run.machine == machine
    assert run.races["executor"].tolist() == ["map"]  # no serial: needs no task durations
    assert run.dispatch["variant"].tolist() == ["v"]
    assert run.startup["method"].tolist() == ["fork"]
    assert run.axes["executor"].tolist() == ["map/shared"]
    row = run.races.iloc[0]
    assert (row["median_s"], row["low_s"], row["high_s"], row["rounds"]) == (0.2, 0.1, 0.4, 3)
    assert read_benchmark_json(path, label="before").label == "before"


def test_a_file_without_foldrace_entries_says_how_to_write_one(tmp_path):
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"benchmarks": [_entry("other", kind="other")]}))
    message = (
        f"{str(path)!r} holds no foldrace benchmarks; write it with "
        "'pytest benchmarks --benchmark-json FILE'"
    )
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        read_benchmark_json(path)


def test_the_serial_entry_needs_its_task_durations(tmp_path):
    path = tmp_path / "bench.json"
    path.write_text(_race_entry({"task_durations": []}))
    with pytest.raises(InputError, match=r"extra_info\.task_durations must be a non-empty list"):
        read_benchmark_json(path)

"""The race harness and its result tables: columns, arithmetic, checks and files."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from sklearn.model_selection import cross_validate

from foldrace import FoldTaskError, InputError, RaceError, RaceResult, Workload, race
from foldrace.fold import FoldResult
from foldrace.fork_pages import needs_settling
from foldrace.harness import plan
from foldrace.results import (
    SCORE_COLUMNS,
    SUMMARY_COLUMNS,
    TASK_COLUMNS,
    TIMING_COLUMNS,
    Run,
)
from foldrace.schedule import predicted_speedup
from foldrace.testing import FailingClassifier, SlowClassifier


@pytest.fixture(scope="module")
def small_race(small_workload) -> RaceResult:
    return race(small_workload, workers=[1, 2], repeats=2)


@pytest.mark.processes
def test_tables_have_the_documented_columns_and_rows(small_race):
    assert tuple(small_race.timings.columns) == TIMING_COLUMNS
    assert tuple(small_race.tasks.columns) == TASK_COLUMNS
    assert tuple(small_race.scores.columns) == SCORE_COLUMNS
    assert tuple(small_race.summary().columns) == SUMMARY_COLUMNS
    runs = (1 + 4 * 2) * 2  # serial once + 4 executors x 2 worker counts, 2 repeats each
    assert len(small_race.timings) == runs  # the warm-up run is not recorded
    assert len(small_race.tasks) == runs * 3
    assert len(small_race.scores) == runs * 3 * 2
    assert set(small_race.timings["repeat"]) == {0, 1}
    timings = small_race.timings
    np.testing.assert_allclose(
        timings["total_s"], timings["startup_s"] + timings["run_s"] + timings["shutdown_s"]
    )
    assert (timings[timings["executor"] != "serial"]["startup_s"] > 0).all()


@pytest.mark.processes
def test_race_scores_are_identical_and_equal_cross_validate(small_race, small_workload):
    check = small_race.check()
    assert check.identical, check.describe()
    assert check.mismatches.empty
    for name, estimator in small_workload.models.items():
        expected = np.mean(
            cross_validate(
                estimator,
                small_workload.X,
                small_workload.y,
                cv=list(small_workload.folds),
                scoring=small_workload.scorer,
            )["test_score"]
        )
        assert check.reference[name] == expected
    assert check.describe() == "Identical averaged scores across executors: yes"


@pytest.mark.processes
def test_a_differing_score_is_reported_by_executor_and_model(small_race):
    scores = small_race.scores.copy()
    row = scores.index[
        (scores["executor"] == "map") & (scores["workers"] == 2) & (scores["model"] == "rf")
    ][0]
    scores.loc[row, "score"] += 1e-12  # far below any printed precision
    doctored = RaceResult(small_race.timings, small_race.tasks, scores, small_race.meta)
    check = doctored.check()
    assert not check.identical
    assert set(
        zip(
            check.mismatches["executor"],
            check.mismatches["workers"],
            check.mismatches["model"],
            strict=True,
        )
    ) == {("map", 2, "rf")}
    assert "NO, differ: map (workers=2) on rf" in check.describe()


def _fold(fold, start, end):
    return FoldResult(fold, {"m": 0.5}, 1, start, end)


def test_speedup_efficiency_and_bound_arithmetic():
    tasks = [_fold(0, 0.0, 1.0), _fold(1, 1.0, 2.0), _fold(2, 2.0, 3.0)]
    runs = [
        Run("fold", "serial", 1, 0, 0.0, 0.0, 3.0, 0.0, tasks),
        Run("fold", "serial", 1, 1, 0.0, 0.0, 3.2, 0.0, tasks),
        Run("fold", "serial", 1, 2, 0.0, 0.0, 2.8, 0.0, tasks),
        Run("fold", "map", 2, 0, 0.0, 0.1, 2.0, 0.1, tasks),
        Run("fold", "map", 2, 1, 0.0, 0.1, 2.5, 0.3, tasks),
        Run("fold", "map", 2, 2, 0.0, 0.3, 1.5, 0.1, tasks),
        Run("fold", "apply", 2, 0, 0.0, 0.1, 3.0, 0.1, tasks),
    ]
    schedules = {"serial": "sequential", "map": "chunked", "apply": "sequential"}
    summary = RaceResult.from_runs(runs, {"schedules": schedules}).summary()
    summary = summary.set_index("executor")
    cell = summary.loc["map"]
    assert cell["median_s"] == pytest.approx(2.0)
    # round by round: serial's run of the same round over map's
    assert cell["speedup"] == pytest.approx(3.0 / 2.0)
    assert cell["speedup_low"] == pytest.approx(3.2 / 2.5)
    assert cell["speedup_high"] == pytest.approx(2.8 / 1.5)
    assert cell["efficiency"] == pytest.approx(0.75)
    assert cell["bound"] == pytest.approx(1.5)  # three 1 s folds on two workers
    assert cell["ideal"] == 2.0
    assert cell["pool_s"] == pytest.approx(0.4)  # median of 0.2, 0.4, 0.4
    assert cell["total_speedup"] == pytest.approx(3.0 / 2.2)
    assert cell["predicted"] == pytest.approx(1.5)  # chunks of one task: list scheduling
    assert cell["n_tasks"] == 3
    # its own tasks took 1 s each: at best 2 s on two workers, so at most serial / 2
    assert cell["run_bound"] == pytest.approx(3.0 / 2.0)
    assert cell["disturbed"]  # its rounds gave 1.28x to 1.87x
    assert cell["disturbance"] == "repeats spread 1.28x to 1.87x"
    assert summary.loc["apply", "predicted"] == pytest.approx(1.0)  # one task at a time
    assert summary.loc["serial", "speedup"] == 1.0
    assert not summary.loc["serial", "disturbed"]


def _cell(name, serial_times, cell_times, workers=2):
    tasks = [_fold(0, 0.0, 1.0), _fold(1, 1.0, 2.0), _fold(2, 2.0, 3.0)]
    runs = [
        Run("fold", "serial", 1, r, 0.0, 0.0, t, 0.0, tasks) for r, t in enumerate(serial_times)
    ]
    runs += [
        Run("fold", name, workers, r, 0.0, 0.0, t, 0.0, tasks) for r, t in enumerate(cell_times)
    ]
    summary = RaceResult.from_runs(runs, {"schedules": {name: "list"}}).summary()
    return summary.set_index("executor").loc[name]


def test_a_speedup_above_the_bound_by_more_than_its_spread_is_disturbed():
    cell = _cell("map", [3.0, 3.0, 3.0], [1.6, 1.62, 1.64])  # 1.83x to 1.88x, bound 1.5x
    assert cell["disturbed"]
    assert cell["disturbance"].startswith("1.85x is above its bound 1.50x")
    at_one = _cell("map", [3.0, 3.0, 3.0], [2.5, 2.5, 2.6], workers=1)  # 1.2x on 1 worker
    assert at_one["disturbed"]
    assert "above its worker count 1.00x" in at_one["disturbance"]


def test_steady_repeats_within_the_bound_are_not_disturbed():
    cell = _cell("map", [3.0, 3.1, 2.9], [2.05, 2.1, 2.0])
    assert not cell["disturbed"]
    assert cell["disturbance"] == ""


def test_speedups_pair_the_runs_of_one_round():
    # the machine slowed down in round 1 for both: paired, the speedup stays 1.5x
    cell = _cell("map", [3.0, 6.0, 3.0], [2.0, 4.0, 2.0])
    assert cell["speedup_low"] == pytest.approx(1.5)
    assert cell["speedup_high"] == pytest.approx(1.5)
    assert not cell["disturbed"]


def test_averages_sort_by_fold_before_the_mean():
    scores = [0.1, 0.7, 0.3000000000000001]
    forwards = [FoldResult(i, {"m": s}, 1, 0.0, 1.0) for i, s in enumerate(scores)]
    backwards = list(reversed(forwards))
    runs = [
        Run("fold", "serial", 1, 0, 0, 0, 1, 0, forwards),
        Run("fold", "map", 2, 0, 0, 0, 1, 0, backwards),
    ]
    averages = RaceResult.from_runs(runs, {}).averages()
    assert averages["score"].tolist() == [float(np.mean(scores))] * 2


def test_plan_puts_serial_first_and_checks_names_and_workers():
    cells = [(spec.label, w) for spec, w in plan(["map", "serial"], [2, 1, 2])]
    assert cells == [("serial", 1), ("map", 1), ("map", 2)]
    cells = [(s.label, w) for s, w in plan(["map"], [2], backends=["process", "thread"])]
    assert cells == [("serial", 1), ("map", 2), ("map/thread", 2)]
    assert [s.label for s, _ in plan(None, [1])] == [
        "serial",
        "apply",
        "apply_async",
        "map",
        "starmap",
    ]
    with pytest.raises(InputError, match="unknown executor 'mapp'"):
        plan(["mapp"], [1])
    with pytest.raises(InputError, match="workers must be at least 1"):
        plan(["map"], [0])
    with pytest.raises(InputError, match="at least one worker count"):
        plan(["map"], [])


@pytest.mark.parametrize(("repeats", "warmup"), [(0, 1), (1, -1), (1.5, 0)])
def test_bad_repeats_and_warmup_are_refused(small_workload, repeats, warmup):
    with pytest.raises(InputError, match=r"repeats|warmup"):
        race(small_workload, ["map"], [1], repeats=repeats, warmup=warmup)


@pytest.mark.processes
@pytest.mark.parametrize("name", ["serial", "starmap"])
def test_an_executor_failure_names_executor_workers_and_fold(small_workload, name):
    spare = None if name == "serial" else os.getpid()  # let serial pass, fail in workers
    bad = FailingClassifier(fail_below=10_000, spare_pid=spare)
    workload = Workload(small_workload.X, small_workload.y, {"bad": bad})
    workers = 1 if name == "serial" else 2
    # every fold fails; the pool reports whichever failed first
    expected = rf"executor '{name}' \(workers={workers}\) failed: fold \d, model 'bad': ValueError"
    with pytest.raises(RaceError, match=expected) as info:
        race(workload, [name], [workers], repeats=1, warmup=0)
    assert (info.value.executor, info.value.workers) == (name, workers)
    assert info.value.fold in {0, 1, 2}
    assert isinstance(info.value.__cause__, FoldTaskError)


@pytest.mark.processes
def test_results_round_trip_through_json_bit_for_bit(small_race, tmp_path):
    paths = small_race.write(tmp_path / "out")
    assert {p.name for p in paths.values()} == {
        "results.json",
        "summary.csv",
        "timings.csv",
        "tasks.csv",
        "scores.csv",
        "accounting.csv",
    }
    again = RaceResult.read(paths["results"])
    assert again.averages()["score"].tolist() == small_race.averages()["score"].tolist()
    assert again.summary().equals(small_race.summary())
    assert again.meta["workload"]["n_tasks"] == {"fold": 3}
    assert not list((tmp_path / "out").glob(".*.tmp"))


@pytest.mark.processes
def test_an_interrupted_write_keeps_the_earlier_set(small_race, tmp_path, monkeypatch):
    from test_files import fail_on_file, leftovers

    paths = small_race.write(tmp_path)
    before = {name: path.read_bytes() for name, path in paths.items()}
    fail_on_file(monkeypatch, 3, KeyboardInterrupt())
    other = RaceResult(
        small_race.timings.iloc[:1], small_race.tasks, small_race.scores, small_race.meta
    )
    with pytest.raises(KeyboardInterrupt):
        other.write(tmp_path)
    assert {name: path.read_bytes() for name, path in paths.items()} == before
    assert not leftovers(tmp_path)


def _strict(token: str):
    raise AssertionError(f"not strict JSON: {token}")


@pytest.mark.processes
def test_non_finite_numbers_are_written_as_null_and_read_back_as_nan(small_race, tmp_path):
    scores = small_race.scores.copy()
    scores.loc[0, "score"] = math.nan
    meta = small_race.meta | {"complete": False, "timeout": math.inf}
    odd = RaceResult(small_race.timings, small_race.tasks, scores, meta)
    path = odd.write(tmp_path)["results"]
    data = json.loads(path.read_text(), parse_constant=_strict)
    assert data["scores"][0]["score"] is None
    assert data["meta"]["timeout"] is None
    again = RaceResult.read(path)
    assert math.isnan(again.scores["score"].iloc[0])
    assert again.scores["score"].iloc[1:].tolist() == scores["score"].iloc[1:].tolist()
    assert again.summary().equals(odd.summary())


@pytest.mark.processes
def test_a_partial_result_with_no_runs_is_strict_json_too(small_race, tmp_path):
    empty = RaceResult.from_runs([], small_race.meta | {"complete": False})
    path = empty.write(tmp_path)["results"]
    data = json.loads(path.read_text(), parse_constant=_strict)
    assert data["timings"] == []
    assert data["meta"]["complete"] is False
    assert RaceResult.read(tmp_path).timings.empty


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"kind": "something-else"}', "not a foldrace results file"),
        ("[1, 2, 3]", "not a foldrace results file"),
        ('{"kind": "foldrace.race", "meta": {}}', "damaged: it has no 'format' field"),
        ('{"kind": "foldrace.race", "format": 9}', "has format 9, which this version"),
    ],
)
def test_reading_a_bad_results_file_is_an_input_error(tmp_path, content, message):
    path = tmp_path / "results.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        RaceResult.read(path)


def test_reading_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        RaceResult.read(tmp_path / "absent.json")


@pytest.mark.processes
def test_json_is_plain_and_tagged(small_race, tmp_path):
    data = json.loads(small_race.write(tmp_path)["results"].read_text())
    assert data["kind"] == "foldrace.race"
    assert data["meta"]["machine"]["usable_cpus"] >= 1
    assert data["meta"]["complete"] is True


@pytest.mark.processes
def test_fold_model_granularity_sits_beside_fold_with_identical_scores(small_workload):
    result = race(
        small_workload,
        ["apply_async"],
        [2],
        repeats=1,
        warmup=0,
        granularity=["fold", "fold-model"],
    )
    assert result.granularities == ["fold", "fold-model"]
    tasks = result.tasks
    per_model = tasks[tasks["granularity"] == "fold-model"]
    assert len(per_model) == 2 * 6  # serial and apply_async, 3 folds x 2 models each
    assert set(per_model["models"]) == {"logit", "rf"}
    summary = result.summary()
    assert summary.groupby("granularity")["n_tasks"].first().to_dict() == {
        "fold": 3,
        "fold-model": 6,
    }
    assert result.check().identical, result.check().describe()
    assert len(result.task_durations("fold-model")) == 6


def test_unknown_granularity_is_refused(small_workload):
    with pytest.raises(InputError, match="unknown granularity 'model'"):
        race(small_workload, ["map"], [1], granularity="model")


@pytest.mark.processes
def test_every_iterable_race_takes_may_be_a_generator(small_workload):
    result = race(
        small_workload,
        (name for name in ["map", "submit"]),
        (w for w in [2]),
        repeats=1,
        warmup=0,
        start_method=(m for m in ["fork"]),
        backends=(b for b in ["process"]),
        data_passing=(d for d in ["task", "worker"]),
        granularity=(g for g in ["fold"]),
    )
    assert result.meta["executors"] == ["serial", "map", "map/worker", "submit", "submit/worker"]
    assert result.meta["configs"]["map/worker"]["start_method"] == "fork"
    assert result.meta["start_method"] == "fork"
    assert result.check().identical


@pytest.mark.processes
def test_tasks_go_longest_first_when_asked_and_come_back_in_task_order(custom_workload):
    result = race(
        custom_workload,
        ["apply_async"],
        [1],
        repeats=1,
        warmup=0,
        granularity="fold-model",
        order=["given", "longest-first"],
    )
    assert result.executors == ["serial", "apply_async", "apply_async/order=longest-first"]
    assert result.meta["configs"]["apply_async/order=longest-first"]["order"] == "longest-first"
    tasks = result.tasks
    serial = tasks[tasks["executor"] == "serial"].sort_values("task")
    longest = tasks[tasks["executor"] == "apply_async/order=longest-first"].sort_values("task")
    # rows stay in the workload's task order, whatever order the tasks ran in
    assert list(longest["fold"]) == list(serial["fold"])
    assert list(longest["models"]) == list(serial["models"])
    ran = list(longest.sort_values("start")["task"])  # one worker: one task after another
    expected = sorted(range(len(serial)), key=lambda i: -serial["duration_s"].iloc[i])
    assert ran == expected
    assert result.check().identical


@pytest.mark.processes
def test_chunk_sizes_are_raced_recorded_and_predicted(custom_workload):
    result = race(
        custom_workload, ["map", "apply"], [2], repeats=1, warmup=0, chunksize=[1, 4],
        granularity="fold-model",
    )  # fmt: skip
    assert result.executors == ["serial", "map/chunksize=1", "map/chunksize=4", "apply"]
    assert result.meta["configs"]["map/chunksize=4"]["chunksize"] == 4
    summary = result.summary().set_index("executor")
    durations = result.task_durations("fold-model")
    assert summary.loc["map/chunksize=4", "predicted"] == pytest.approx(
        predicted_speedup("chunked", durations, 2, 4)
    )
    assert result.check().identical


def test_all_stands_for_every_standard_configuration_from_python_as_on_the_command_line():
    from foldrace.executors import standard_specs
    from foldrace.harness import plan

    cells = plan(["all", "map/chunksize=1"], [2])
    labels = [spec.label for spec, _ in cells]
    standard = [spec.label for spec in standard_specs()]
    assert labels == [*standard, "map/chunksize=1"]  # serial first, nothing twice
    assert {"starmap/thread", "joblib", "gridsearch"} <= set(labels)


@pytest.mark.processes
@pytest.mark.parametrize(
    ("executors", "at_least"),
    [
        (["map"], 1),  # a fork pool runs in every round: a later run here follows one
        (["map/forkserver"], 0),  # the fork server forks, this process does not: none
        (["map", "starmap/thread"], 1),  # thread pools run their tasks here too
    ],
)
def test_runs_in_this_process_after_a_fork_are_preceded_by_an_untimed_task(
    small_workload, tmp_path, executors, at_least
):
    stamps = tmp_path / "fits"
    model = SlowClassifier(0.0, stamp_file=str(stamps), end_file=str(tmp_path / "ends"))
    workload = Workload(small_workload.X, small_workload.y, {"slow": model}, folds=3)
    forked = before = needs_settling()  # this test process may have forked before
    result = race(workload, executors, [1], repeats=2, warmup=1)
    expected = 0  # a run here, after a fork since the last such run, settles
    for cell in (c for r in result.meta["rounds"] for c in r["order"]):
        if cell == "map@1":
            forked = True
        elif cell != "map/forkserver@1":
            expected, forked = expected + forked, False
    assert result.meta["settling_runs"] == expected
    assert expected - before >= at_least  # settled after the race's own forks
    runs = 3 * (len(executors) + 1)  # the warm-up round and two repeats, serial included
    assert len(stamps.read_text().split()) == runs * 3 + expected  # one fit per task

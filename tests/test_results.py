"""Score averaging, the identical-scores check, and reading and validating results files,
on results made by hand (no executor runs)."""

from __future__ import annotations

import copy
import math
import re

import pytest

from foldrace import FoldResult, InputError, RaceResult
from foldrace.files import set_latest, write_json
from foldrace.results import SCORE_COLUMNS, Run, _integer, find_results, validate_results

MACHINE = {
    "usable_cpus": 1,
    "cpu_model": "test",
    "platform": "test",
    "python": "3",
    "scikit-learn": "1",
}
META = {
    "executors": ["serial", "map"],
    "workers": [1, 2],
    "repeats": 2,
    "schedules": {"serial": "sequential", "map": "chunked"},
    "workload": {"models": ["a", "b"]},
    "machine": MACHINE,
}


def _run(executor, workers, scores, granularity="fold", repeat=0, order=None):
    """A timed run whose fold ``f`` scored ``scores[f]`` (one dict of model scores per fold),
    its results arriving in ``order`` (fold order if omitted)."""
    folds = order if order is not None else range(len(scores))
    results = [FoldResult(f, dict(scores[f]), 100 + f, 10.0 + f, 10.5 + f) for f in folds]
    return Run(granularity, executor, workers, repeat, 0.0, 0.0, 2.0, 0.5, results)


SCORES = [{"a": 0.1, "b": 0.7}, {"a": 0.2, "b": 0.8}, {"a": 0.4, "b": 0.9}]


def _result(*runs: Run) -> RaceResult:
    return RaceResult.from_runs(list(runs), copy.deepcopy(META))


def test_averages_are_numpys_mean_over_folds_in_fold_order_one_row_per_run_and_model():
    result = _result(_run("serial", 1, SCORES), _run("map", 2, SCORES, order=[2, 0, 1]))
    averages = result.averages()
    columns = ["granularity", "executor", "workers", "repeat", "model", "score"]
    assert list(averages.columns) == columns
    rows = list(averages.itertuples(index=False, name=None))
    mean_a, mean_b = (0.1 + 0.2 + 0.4) / 3, (0.7 + 0.8 + 0.9) / 3
    assert rows == [
        ("fold", "serial", 1, 0, "a", mean_a),
        ("fold", "serial", 1, 0, "b", mean_b),
        ("fold", "map", 2, 0, "a", mean_a),
        ("fold", "map", 2, 0, "b", mean_b),
    ]  # the runs in the order they ran, not sorted


def test_identical_scores_pass_the_check():
    result = _result(_run("serial", 1, SCORES), _run("map", 2, SCORES, order=[1, 2, 0]))
    check = result.check()
    assert check.identical
    assert check.reference == {"a": (0.1 + 0.2 + 0.4) / 3, "b": (0.7 + 0.8 + 0.9) / 3}
    assert check.mismatches.empty
    assert check.describe() == "Identical averaged scores across executors: yes"


def test_the_reference_is_the_first_serial_run_and_every_other_run_is_compared_with_it():
    other = [{"a": s["a"], "b": s["b"] + 1e-12} for s in SCORES]  # b differs in its last bits
    result = _result(
        _run("serial", 1, SCORES),
        _run("serial", 1, other, repeat=1),
        _run("map", 2, SCORES),
        _run("map", 2, other, granularity="fold-model"),
    )
    check = result.check()
    assert not check.identical
    reference = result.averages().iloc[:2]
    assert check.reference == dict(zip(reference["model"], reference["score"], strict=True))
    mismatches = check.mismatches
    assert list(mismatches.columns) == [
        *["granularity", "executor", "workers", "repeat", "model", "score", "reference"]
    ]
    assert list(mismatches.index) == [0, 1]
    rows = list(mismatches.drop(columns=["score"]).itertuples(index=False, name=None))
    assert rows == [
        ("fold", "serial", 1, 1, "b", check.reference["b"]),
        ("fold-model", "map", 2, 0, "b", check.reference["b"]),
    ]
    assert (mismatches["score"] != mismatches["reference"]).all()
    assert check.describe() == (
        "Identical averaged scores across executors: NO, differ: "
        "map (workers=2, fold-model tasks) on b; serial (workers=1) on b"
    )


def test_a_single_serial_run_of_one_model_is_the_reference():
    scores = [{"a": 0.5}, {"a": 0.25}]
    check = _result(_run("serial", 1, scores), _run("map", 2, scores)).check()
    assert check.identical
    assert check.reference == {"a": 0.375}


def test_results_without_a_serial_run_cannot_be_checked():
    with pytest.raises(InputError, match=r"^these results hold no 'serial' run to compare with$"):
        _result(_run("map", 2, SCORES)).check()


# Reading and validating.


def _document() -> dict:
    """A valid results document, as read back from JSON."""
    document = _result(_run("serial", 1, SCORES), _run("map", 2, SCORES)).to_dict()
    document["timings"][0]["shutdown_s"] = 0  # zero seconds, and an int, are valid
    return copy.deepcopy(document)


def test_a_valid_document_reads_back_with_float_scores_and_null_as_nan():
    document = _document()
    document["scores"][0]["score"] = None  # how a non-finite score is written
    result = RaceResult.from_dict(document)
    assert list(result.scores.columns) == list(SCORE_COLUMNS)
    assert result.scores["score"].dtype == float
    assert math.isnan(result.scores["score"].iloc[0])
    assert result.scores["score"].iloc[1] == 0.7
    assert len(result.timings) == 2
    assert len(result.tasks) == 6


def _without(*keys):
    def change(document):
        target = document
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return change


def _with(*keys, value):
    def change(document):
        target = document
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


@pytest.mark.parametrize(
    "change",
    [
        _without("meta", "workers"),
        _without("meta", "repeats"),
        _without("meta", "schedules"),
        _without("meta", "workload"),
        _without("meta", "machine"),
        _with("meta", "repeats", value=1),
        _with("timings", 0, "executor", value="e" * 200),
        _with("timings", 0, "started", value=-5.0),  # a clock, not a duration
    ],
)
def test_optional_and_boundary_values_are_valid(change):
    document = _document()
    change(document)
    validate_results(document)


SHOWN_40 = "x" * 38  # its repr has 40 characters: shown whole
SCHEDULES = "sequential, list, chunked, by-candidate, candidate-by-candidate"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (_with("meta", value=[]), "'meta' must be an object, got []"),
        (_with("meta", "complete", value="no"), "meta.complete must be true or false, got 'no'"),
        (
            _with("meta", "workers", value=[0]),
            "meta.workers must be a list of integers of at least 1, got [0]",
        ),
        (
            _with("meta", "repeats", value=0),
            "meta.repeats must be an integer of at least 1, got 0",
        ),
        (
            _with("meta", "repeats", value="x"),
            "meta.repeats must be an integer of at least 1, got 'x'",
        ),
        (_with("meta", "schedules", value=[]), "meta.schedules must be an object, got []"),
        (
            _with("meta", "schedules", "map", value="fifo"),
            f"meta.schedules['map'] must be a known schedule ({SCHEDULES}), got 'fifo'",
        ),
        (_with("meta", "workload", value=[]), "meta.workload must be an object, got []"),
        (_with("meta", "machine", value=[]), "meta.machine must be an object, got []"),
        (_without("meta", "machine", "cpu_model"), "meta.machine has no 'cpu_model' field"),
        (
            _with("meta", "machine", "usable_cpus", value=0),
            "meta.machine.usable_cpus must be an integer of at least 1, got 0",
        ),
        (
            _with("meta", "machine", "usable_cpus", value="two"),
            "meta.machine.usable_cpus must be an integer of at least 1, got 'two'",
        ),
        (_with("timings", value={}), "'timings' must be a list, got {}"),
        (_with("timings", value=[5]), "timings[0] must be an object, got 5"),
        (_without("tasks", 1, "pid"), "tasks[1] has no 'pid' field"),
        (_with("timings", 0, "executor", value=""), "timings[0].executor must be a non-empty "),
        (_with("timings", 0, "executor", value=5), "timings[0].executor must be a non-empty "),
        (
            _with("timings", 0, "granularity", value="model"),
            "timings[0].granularity must be one of fold, fold-model, got 'model'",
        ),
        (
            _with("timings", 0, "workers", value=SHOWN_40),
            f"timings[0].workers must be an integer of at least 1, got '{SHOWN_40}'",
        ),
        (
            _with("timings", 0, "workers", value=SHOWN_40 + "x"),
            f"timings[0].workers must be an integer of at least 1, got '{'x' * 36}...",
        ),
        (
            _with("timings", 1, "workers", value=0),
            "timings[1].workers must be an integer of at least 1, got 0",
        ),
        (_with("timings", 0, "repeat", value=-1), "timings[0].repeat must be an integer of at "),
        (_with("tasks", 0, "pid", value=1.5), "tasks[0].pid must be an integer, got 1.5"),
        (
            _with("timings", 0, "run_s", value=-0.5),
            "timings[0].run_s must be a finite number of seconds, at least 0, got -0.5",
        ),
        (
            _with("timings", 0, "started", value=math.inf),
            "timings[0].started must be a finite number, got inf",
        ),
        (
            _with("timings", 0, "started", value="soon"),
            "timings[0].started must be a finite number, got 'soon'",
        ),
        (_with("scores", 0, "score", value="high"), "scores[0].score must be a number or null"),
    ],
)
def test_a_wrong_field_is_named_with_what_it_must_be_and_what_it_is(change, problem):
    document = _document()
    change(document)
    with pytest.raises(InputError, match=f"^results is damaged: {re.escape(problem)}"):
        validate_results(document)
    with pytest.raises(InputError, match=f"^the results is damaged: {re.escape(problem)}"):
        RaceResult.from_dict(document)


def test_not_a_results_document_is_named_as_such():
    message = "results is not a foldrace results file (its 'kind' is not 'foldrace.race')"
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        validate_results({"kind": "other"})


# Finding the file a path stands for.


def _write(folder):
    folder.mkdir(parents=True)
    write_json(folder / "results.json", _document())
    return folder / "results.json"


def test_a_run_folder_or_an_output_folder_stands_for_its_results(tmp_path):
    run = _write(tmp_path / "out" / "run-1")
    assert find_results(run) == run
    assert find_results(run.parent) == run
    set_latest(tmp_path / "out", "run-1")
    assert find_results(tmp_path / "out") == run
    assert RaceResult.read(tmp_path / "out").meta["machine"] == MACHINE


def test_a_folder_without_results_says_what_it_lacks(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    message = f"{str(out)!r} holds no results.json and no 'latest' run"
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        find_results(out)
    _write(out / "run-2")
    message = (
        f"{str(out)!r} holds no complete run ('latest' is missing); give a run folder, "
        f"such as {str(out / 'run-2')!r}"
    )
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        find_results(out)
    (out / "run-3").mkdir()
    set_latest(out, "run-3")
    message = f"{str(out)!r}: 'latest' points at 'run-3', which holds no results.json"
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        find_results(out)


def test_a_damaged_file_is_named_by_its_path(tmp_path):
    path = _write(tmp_path / "run")
    document = _document()
    del document["scores"]
    write_json(path, document)
    message = f"{str(path)!r} is damaged: it has no 'scores' field"
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        RaceResult.read(path)


def test_the_integer_check_names_its_minimum():
    # Built once, when the module is imported, for every integer field: tested directly.
    assert _integer(1)(1) is None
    assert _integer(1)(0) == "must be an integer of at least 1"
    assert _integer(0)(True) == "must be an integer of at least 0"
    assert _integer(None)(-7) is None
    assert _integer(None)("7") == "must be an integer"


def test_the_averages_keep_the_runs_and_models_in_order_however_many_there_are():
    scores = [{"a": 0.5, "b": 0.25}] * 10
    backwards = list(reversed(range(10)))  # folds arriving last first
    runs = [_run("map", workers, scores, order=backwards) for workers in range(1, 13)]
    averages = _result(_run("serial", 1, scores), *runs).averages()
    order = [("serial", 1)] + [("map", workers) for workers in range(1, 13)]
    expected = [(executor, workers, model) for executor, workers in order for model in "ab"]
    assert (
        list(zip(averages["executor"], averages["workers"], averages["model"], strict=True))
        == expected
    )

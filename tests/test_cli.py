"""The command line: a real run in a subprocess, plot from JSON, and every bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import foldrace_command
from foldrace.cli import ExitCode, main
from foldrace.executors import BLOG_STRATEGIES, executor_names, usable_cpus


def latest(out: Path) -> Path:
    """The run folder that ``out/latest`` points at (a relative link to a sibling)."""
    link = out / "latest"
    assert link.is_symlink(), f"{link} is not a symlink"
    target = os.readlink(link)
    assert "/" not in target, target
    return out / target


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One real ``foldrace run --workers 1 2 --repeats 1 --progress`` in a subprocess."""
    out = tmp_path_factory.mktemp("run") / "results"
    command = ["run", "--workers", "1", "2", "--repeats", "1", "--progress", "--out", str(out)]
    done = foldrace_command(*command)
    return out, done


@pytest.mark.processes
def test_run_writes_csv_json_and_figures_and_exits_0(run_dir):
    out, done = run_dir
    assert done.returncode == ExitCode.OK, done.stderr
    folder = latest(out)
    assert re.fullmatch(r"run-\d{8}-\d{6}", folder.name)
    assert sorted(p.name for p in out.iterdir()) == ["latest", folder.name]
    for name in (
        "results.json",
        "summary.csv",
        "timings.csv",
        "tasks.csv",
        "scores.csv",
        "accounting.csv",
        "speedup.png",
        "speedup.svg",
        "accounting.png",
        "accounting.svg",
    ):
        assert (folder / name).stat().st_size > 0, name
    assert (folder / "speedup.png").read_bytes().startswith(b"\x89PNG")
    data = json.loads((folder / "results.json").read_text())
    assert data["meta"]["workers"] == [1, 2]
    assert f"{out / 'latest'} -> {folder.name}" in done.stdout


@pytest.mark.processes
def test_run_prints_table_bound_scores_and_identical_line(run_dir):
    _, done = run_dir
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.strip().startswith("executor"))
    for column in ("workers", "median s", "speedup", "efficiency", "bound"):
        assert column in header
    for name in BLOG_STRATEGIES:  # the default race: the blog's five
        assert any(line.split()[:1] == [name] for line in lines), name
    assert "Granularity bound of 3 tasks per fold" in done.stdout
    assert re.search(
        r"2 workers: ≤ 1\.\d\d×  \(3 equal tasks: ≤ 1\.50×, ideal: 2\.00×\)", done.stdout
    )
    assert "0.8680219101512723" in done.stdout  # logit, full precision
    assert "0.905368254904951" in done.stdout  # rf
    assert "Identical averaged scores across executors: yes" in done.stdout
    assert "race: 100%" in done.stderr  # the progress bar, shown with --progress in a pipe


@pytest.mark.processes
@pytest.mark.parametrize("source", ["file", "run folder", "out folder"])
def test_plot_redraws_from_results_json(run_dir, tmp_path, source):
    out, _ = run_dir
    given = {"file": latest(out) / "results.json", "run folder": latest(out), "out folder": out}
    assert main(["plot", str(given[source]), "--out", str(tmp_path)]) == ExitCode.OK
    assert (tmp_path / "speedup.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "speedup.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "accounting.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "accounting.svg").read_text().lstrip().startswith("<?xml")


@pytest.mark.processes
def test_quiet_run_with_own_models(tmp_path, capsys):
    model = "tree=sklearn.tree:DecisionTreeClassifier(max_depth=3, random_state=0)"
    code = main(
        [
            "run",
            "--executors",
            "starmap",
            "--workers",
            "2",
            "--repeats",
            "1",
            "--samples",
            "300",
            "--model",
            model,
            "--quiet",
            "--no-plot",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == ExitCode.OK
    assert capsys.readouterr().out == "Identical averaged scores across executors: yes\n"
    assert not (latest(tmp_path) / "speedup.png").exists()
    meta = json.loads((latest(tmp_path) / "results.json").read_text())["meta"]
    assert meta["workload"]["models"] == ["tree"]


@pytest.mark.processes
def test_run_on_a_csv_file(tmp_path, capsys, small_workload):
    import pandas as pd

    table = pd.DataFrame(small_workload.X).add_prefix("x")
    table["label"] = small_workload.y
    table.to_csv(tmp_path / "mine.csv", index=False)
    code = main(
        [
            "run",
            "--executors",
            "map",
            "--workers",
            "1",
            "--repeats",
            "1",
            "--quiet",
            "--no-plot",
            "--data",
            str(tmp_path / "mine.csv"),
            "--target",
            "label",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == ExitCode.OK, capsys.readouterr().err
    meta = json.loads((latest(tmp_path / "out") / "results.json").read_text())["meta"]
    assert meta["workload"]["description"].startswith("mine.csv (300 x 20)")


@pytest.mark.processes
def test_a_group_column_keeps_each_group_in_one_fold(tmp_path, capsys, small_workload):
    import pandas as pd

    from foldrace.cli import build_parser, build_workload

    table = pd.DataFrame(small_workload.X).add_prefix("x")
    table["label"] = small_workload.y
    table["patient"] = [f"p{i % 12}" for i in range(len(table))]
    path = tmp_path / "grouped.csv"
    table.to_csv(path, index=False)
    options = ["run", "--data", str(path), "--target", "label", "--groups", "patient"]
    workload = build_workload(build_parser().parse_args(options))
    assert workload.shape == (300, 20)  # neither the target nor the groups are features
    for train, test in workload.folds:
        assert not set(table["patient"].iloc[train]) & set(table["patient"].iloc[test])
    assert "stratified folds by patient" in workload.description
    code = main([*options, "--executors", "map", "--workers", "2", "--repeats", "1",
                 "--quiet", "--no-plot", "--out", str(tmp_path / "out")])  # fmt: skip
    assert code == ExitCode.OK, capsys.readouterr().err
    for bad, message in [
        (["--groups", "nope"], "--groups 'nope' is not a column of"),
        (["--groups", "label"], "--groups 'label' is the --target column"),
    ]:
        assert main([*options[:-2], *bad, "--out", str(tmp_path / "x")]) == ExitCode.BAD_INPUT
        assert message in capsys.readouterr().err
    assert main(["run", "--groups", "patient"]) == ExitCode.BAD_INPUT
    assert "--groups needs --data" in capsys.readouterr().err


def test_executors_command_lists_the_registry(capsys):
    assert main(["executors"]) == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    listed = [line.split()[0] for line in lines[1 : 1 + len(executor_names())]]
    assert lines[0].split()[:3] == ["executor", "family", "backends"]
    assert listed == list(executor_names())
    assert "starmap/spawn/shared" in lines[-1]


@pytest.mark.processes
def test_run_races_the_dispatch_knobs_given(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "run", "--executors", "map", "apply_async", "joblib/thread", "--chunksize", "1",
            "2", "--order", "given", "longest-first", "--pre-dispatch", "all", "--workers", "2",
            "--repeats", "1", "--samples", "300", "--quiet", "--no-plot", "--out", str(out),
        ]
    )  # fmt: skip
    assert code == ExitCode.OK, capsys.readouterr().err
    meta = json.loads((latest(out) / "results.json").read_text())["meta"]
    assert meta["executors"] == [
        "serial", "map/chunksize=1", "map/chunksize=2", "map/chunksize=1/order=longest-first",
        "map/chunksize=2/order=longest-first", "apply_async", "apply_async/order=longest-first",
        *(f"joblib/thread/chunksize={n}{o}/pre_dispatch=all" for o in ("", "/order=longest-first")
          for n in (1, 2)),
    ]  # fmt: skip
    assert meta["configs"]["joblib/thread/chunksize=2/pre_dispatch=all"]["pre_dispatch"] == "all"


@pytest.mark.processes
def test_run_races_the_axes_given(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "run", "--executors", "starmap", "submit/thread", "--backends", "process", "thread",
            "--data-passing", "task", "shared", "--workers", "2", "--repeats", "1",
            "--samples", "300", "--quiet", "--no-plot", "--out", str(out),
        ]
    )  # fmt: skip
    assert code == ExitCode.OK, capsys.readouterr().err
    meta = json.loads((latest(out) / "results.json").read_text())["meta"]
    assert meta["executors"] == [
        "serial", "starmap", "starmap/shared", "starmap/thread", "submit/thread",
    ]  # fmt: skip
    assert meta["configs"]["starmap/shared"]["data_passing"] == "shared"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--executors", "map/nope"], "unknown option 'nope' in executor 'map/nope'"),
        (["--executors", "joblib/worker"], "offers data passing task, shared"),
        (
            ["--executors", "gridsearch", "--backends", "thread"],
            "offers none of the chosen backends",
        ),
        (["--backends", "greenlet"], "invalid choice: 'greenlet'"),
        (["--start-method", "fork-bomb"], "invalid choice: 'fork-bomb'"),
        (["--chunksize", "0"], "must be an integer of at least 1, got '0'"),
        (["--order", "random"], "invalid choice: 'random'"),
        (["--executors", "apply/chunksize=2"], "sends no chunks"),
        (["--pre-dispatch", "-1"], "pre_dispatch must be 'all', a whole number of at least 1"),
    ],
)
def test_bad_executor_options_exit_2_with_one_line(tmp_path, capsys, arguments, message):
    try:
        code = main(["run", *arguments, "--workers", "1", "--out", str(tmp_path / "o")])
    except SystemExit as exit:  # argparse refuses a choice before foldrace runs
        code = exit.code
    assert code == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.processes
def test_differing_scores_exit_with_their_own_code(tmp_path, capsys):
    # Scores that differ off this process, deterministically: no chance involved.
    model = f"rf=foldrace.testing:DriftingClassifier(spare_pid={os.getpid()})"
    code = main(
        [
            "run",
            "--executors",
            "map",
            "--workers",
            "1",
            "--repeats",
            "1",
            "--samples",
            "300",
            "--model",
            model,
            "--quiet",
            "--no-plot",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == ExitCode.SCORES_DIFFER == 3
    assert "NO, differ: map (workers=1) on rf" in capsys.readouterr().out


TREE = "sklearn.tree:DecisionTreeClassifier"
BAD_INPUTS = [
    (["run", "--workers", "0"], "workers must be at least 1, or -1 for every usable CPU"),
    (["run", "--workers", str(-1 - usable_cpus())], "leaves no worker on"),
    (["run", "--workers", "two"], "workers must be a positive integer or -1 (all CPUs), got 'two'"),
    (["run", "--workers", "1.5"], "a positive integer or -1 (all CPUs), got '1.5'"),
    (["run", "--workers", "100000"], "more than foldrace allows"),
    (["run", "--executors", "mapp"], "unknown executor 'mapp'; known executors: serial, apply"),
    (["run", "--samples", "12", "--folds", "7"], "7 folds are more than the smallest class allows"),
    (["run", "--model", "svc=sklearn.svm:SVC()"], "model 'svc' (SVC) has no predict_proba"),
    (["run", "--model", "svc"], "expected NAME=module:Class"),
    (["run", "--model", "x=nowhere.at.all:Thing"], "cannot import module 'nowhere.at.all'"),
    (["run", "--repeats", "0"], "must be an integer of at least 1"),
    (["run", "--start-method", "fork-bomb"], "invalid choice: 'fork-bomb'"),
    (["run", "--data", "missing.csv"], "--data needs --target"),
    (["run", "--workload", "json:__name__"], "--workload 'json:__name__' is not a function"),
    (["run", "--workload", "time:time"], "did not give a foldrace.Workload (it returned a float)"),
    (["run", "--workload", "json:loads"], "--workload 'json:loads' raised TypeError"),
    (["run", "--workload", "sys:exit"], "--workload 'sys:exit' raised SystemExit"),
    (
        ["run", "--workload", "foldrace:default_workload", "--samples", "100", "--seed", "1"],
        "--workload makes its own data, folds and models, so --samples, --seed would be ignored",
    ),
    (["run", "--workload", "foldrace:default_workload", "--target", "y"], "so --target would"),
    (
        ["run", "--data", "mine.csv", "--target", "y", "--features", "5"],
        "--data brings its own samples and features, so --features would be ignored",
    ),
    (["run", "--samples", "10000000000"], "would need 1600.0 GB for X alone, more than half"),
    (["run", "--features", "1000000000"], "would need 8000.0 GB for X alone, more than half"),
    (["run", "--seed", "4294967296"], "must be an integer from 0 to 4294967295, got"),
    (["run", "--scheduler", "notaurl"], "must be a Dask scheduler address such as tcp://HOST"),
    (["run", "--model", f"t={TREE}(max_depth='abc')"], "model 't' (DecisionTreeClassifier) has a"),
    (["run", "--model", f"t={TREE}(max_depth=1, max_depth=2)"], "'max_depth' is given twice"),
    (["run", "--model", f"t={TREE}(max_depth=1)(random_state=0)"], "nothing may follow"),
    (["run", "--model", f"t={TREE}(max_depth=1) + 1"], "nothing may follow the closing"),
    (["run", "--model", f"t={TREE}(max_depth={'-' * 100_000}1)"], "nested too deeply"),
    (["run", "--model", f"t={TREE}()", "--model", "t=sklearn.svm:SVC()"], "'t' is given twice"),
    (["run", "--model", "x=os:system(command='true')"], "os:system is not a scikit-learn"),
    (["plot", "absent.json"], "cannot read 'absent.json'"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_INPUTS)
def test_bad_input_gives_one_line_and_exit_2(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:  # argparse's own checks exit
        raise SystemExit(main([*argv, *(["--out", "out"] if argv[0] == "run" else [])]))
    assert exited.value.code == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()  # bad input leaves no empty folder behind


def test_out_that_is_a_file_or_cannot_be_created_is_refused_before_work(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    assert main(["run", "--out", str(afile)]) == ExitCode.BAD_INPUT
    assert "is an existing file, not a directory" in capsys.readouterr().err
    assert main(["run", "--out", str(afile / "sub")]) == ExitCode.BAD_INPUT
    assert "is not writable" in capsys.readouterr().err
    assert afile.read_text() == "keep me"


@pytest.mark.parametrize(
    ("content", "message"),
    [("{oops", "is not valid JSON"), ('{"kind": "other"}', "not a foldrace results file")],
)
def test_plot_refuses_bad_json(tmp_path, capsys, content, message):
    path = tmp_path / "results.json"
    path.write_text(content)
    assert main(["plot", str(path)]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.processes
def test_bad_input_in_a_real_subprocess_has_no_traceback(tmp_path):
    done = foldrace_command("run", "--workers", "0", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "foldrace run: error: argument --workers: workers must be at least 1, or -1 for every "
        "usable CPU; got 0 (see --help)"
    ]
    assert not (tmp_path / "foldrace-results").exists()


@pytest.mark.processes
def test_console_script_and_module_are_the_same_command():
    import shutil

    script = shutil.which("foldrace", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert script, "the foldrace console script is installed beside the interpreter"
    done = subprocess.run([script, "executors"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout == foldrace_command("executors").stdout


@pytest.mark.processes
def test_run_with_both_granularities_and_a_timeline(tmp_path, capsys):
    code = main(
        [
            "run",
            "--executors",
            "apply",
            "starmap",
            "--workers",
            "2",
            "--repeats",
            "1",
            "--samples",
            "300",
            "--granularity",
            "fold",
            "fold-model",
            "--timeline",
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == ExitCode.OK
    assert "Granularity bound of 3 tasks per fold" in out
    assert "Granularity bound of 6 tasks per fold-model" in out
    assert any(line.startswith("starmap") and "fold x model" in line for line in out.splitlines())
    timelines = [f"timeline-{g}.{f}" for g in ("fold", "fold-model") for f in ("png", "svg")]
    for name in ("speedup.png", *timelines):  # a timeline per granularity, each its own file
        assert (latest(tmp_path) / name).stat().st_size > 0
    assert not (latest(tmp_path) / "timeline.png").exists()
    assert main(["timeline", str(tmp_path), "--out", str(tmp_path / "t")]) == 0
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == sorted(timelines)
    assert (tmp_path / "t" / "timeline-fold-model.png").read_bytes()[:4] == b"\x89PNG"
    argv = ["timeline", str(tmp_path), "--granularity", "fold-model", "--out", str(tmp_path / "m")]
    assert main(argv) == 0
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["timeline.png", "timeline.svg"]


def test_timeline_draws_the_granularity_asked_for_and_refuses_one_not_raced(tiny, tmp_path, capsys):
    from foldrace.cli import timeline_names

    assert timeline_names(["fold"]) == {"timeline": "fold"}
    assert timeline_names(["fold", "fold-model"]) == {
        "timeline-fold": "fold", "timeline-fold-model": "fold-model",
    }  # fmt: skip
    path = tiny.write(tmp_path / "run")["results"]
    argv = ["timeline", str(path), "--granularity", "fold", "--out", str(tmp_path / "f")]
    assert main(argv) == ExitCode.OK
    assert (tmp_path / "f" / "timeline.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    figures = tmp_path / "figures"
    argv = ["timeline", str(path), "--granularity", "fold-model", "--out", str(figures)]
    assert main(argv) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert "no run per fold-model (raced: fold)" in err
    assert len(err.strip().splitlines()) == 1
    assert not figures.exists()


def _csv(tmp_path, table) -> str:
    path = tmp_path / "data.csv"
    table.to_csv(path, index=False)
    return str(path)


@pytest.fixture
def table(small_workload):
    import pandas as pd

    frame = pd.DataFrame(small_workload.X).add_prefix("x")
    frame["label"] = small_workload.y
    return frame


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.assign(label=1), "y has a single class"),
        (lambda t: t.iloc[:0], "X and y are empty"),
        (lambda t: t.assign(x3=t["x3"].where(t.index != 5)), "X contains NaN and model 'logit'"),
        (lambda t: t.assign(x2=t["x2"].astype(object).where(t.index != 5, "abc")), "'x2' is not"),
        (lambda t: t.assign(x1=t["x1"].where(t.index != 5, -np.inf)), "'x1' holds infinite"),
        (lambda t: t.assign(label=t["label"].where(t.index != 5)), "'label' has 1 missing value"),
        (lambda t: t.rename(columns={"x7": "label"}), "more than one column named 'label'"),
    ],
)
def test_bad_data_files_exit_2_before_any_work(tmp_path, capsys, table, change, message):
    path = _csv(tmp_path, change(table))
    code = main(["run", "--data", path, "--target", "label", "--out", str(tmp_path / "o")])
    assert code == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_workload_with_mismatched_lengths_exits_2(tmp_path, monkeypatch, capsys):
    (tmp_path / "mine.py").write_text(
        "from foldrace import Workload, default_workload\n"
        "def make():\n"
        "    w = default_workload(n_samples=100)\n"
        "    return Workload(w.X[:90], w.y, w.models)\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["run", "--workload", "mine:make", "--out", "o"]) == ExitCode.BAD_INPUT
    assert "X has 90 samples but y has 100" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_bad_timeout_exits_2(capsys, value):
    with pytest.raises(SystemExit) as exited:
        main(["run", "--timeout", value])
    assert exited.value.code == ExitCode.BAD_INPUT
    assert "must be a positive, finite number of seconds" in capsys.readouterr().err


@pytest.mark.processes
def test_more_workers_than_cpus_warns_in_one_line_and_runs(tmp_path, capsys):
    from foldrace.executors import usable_cpus

    too_many = str(usable_cpus() + 1)
    code = main(
        [
            "run",
            "--executors",
            "map",
            "--workers",
            too_many,
            "--repeats",
            "1",
            "--samples",
            "200",
            "--quiet",
            "--no-plot",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == ExitCode.OK
    err = capsys.readouterr().err
    assert f"foldrace: warning: workers={too_many} is more than the" in err
    assert "Traceback" not in err


@pytest.mark.processes
def test_a_nan_scorer_fails_the_run_naming_fold_and_model(tmp_path, monkeypatch, capsys):
    (tmp_path / "nanscored.py").write_text(
        "from foldrace import Workload, default_workload\n"
        "def nan_score(estimator, X, y):\n"
        "    return float('nan')\n"
        "def make():\n"
        "    w = default_workload(n_samples=100)\n"
        "    return Workload(w.X, w.y, w.models, folds=w.folds, scorer=nan_score)\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    argv = ["run", "--workload", "nanscored:make", "--executors", "starmap", "--workers", "2"]
    code = main([*argv, "--repeats", "1", "--quiet", "--no-plot", "--out", "o"])
    assert code == ExitCode.RACE_FAILED
    err = capsys.readouterr().err
    assert re.search(r"fold \d, model 'logit': ValueError: the scorer returned nan", err), err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "model",
    [
        "x=os:system(command='touch MARKER')",
        "x=subprocess:run(args='touch MARKER', shell=True)",
        "x=subprocess:Popen(args='touch MARKER', shell=True)",
    ],
)
def test_model_calls_nothing_but_an_estimator_class(tmp_path, monkeypatch, capsys, model):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--model", model, "--out", "o"]) == ExitCode.BAD_INPUT
    assert "is not a scikit-learn estimator class" in capsys.readouterr().err
    assert not (tmp_path / "MARKER").exists()


@pytest.mark.parametrize(
    ("module", "source", "message"),
    [
        ("bad_syntax", "def make(:\n", "it raised SyntaxError: "),
        ("bad_import", "raise RuntimeError('no\\nconfig')\n", "it raised RuntimeError: no config"),
        ("bad_exit", "import sys\nsys.exit(3)\n", "it raised SystemExit: 3"),
    ],
)
def test_a_workload_module_that_fails_to_import_exits_2(
    tmp_path, monkeypatch, capsys, module, source, message
):
    (tmp_path / f"{module}.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["run", "--workload", f"{module}:make", "--out", "o"]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert f"cannot import module {module!r}, {message}" in err
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o").exists()


@pytest.mark.processes
def test_a_module_in_the_current_folder_shadows_no_installed_package(tmp_path):
    # matplotlib is imported for the figures, after the workload module is loaded
    (tmp_path / "matplotlib.py").write_text("raise ImportError('stray matplotlib.py imported')\n")
    (tmp_path / "mine.py").write_text(
        "from foldrace import default_workload\n"
        "def make():\n"
        "    return default_workload(n_samples=100)\n"
    )
    # the console script: unlike python -m, it does not put the current folder first
    script = Path(sys.executable).with_name("foldrace")
    argv = ["run", "--workload", "mine:make", "--executors", "map", "--workers", "1"]
    done = subprocess.run(
        [script, *argv, "--repeats", "1", "--quiet", "--out", "o"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == ExitCode.OK, done.stderr
    assert (tmp_path / "o" / "latest" / "speedup.png").read_bytes().startswith(b"\x89PNG")


@pytest.fixture(scope="module")
def tiny(small_workload):
    """A real race of serial and map on one thread, one repeat: a result to write (no
    worker processes, so the mutation run can use the tests of what is written and read)."""
    from foldrace import race

    return race(small_workload, ["map/thread"], [1], repeats=1, warmup=0)


def _fake_run(monkeypatch, result, out: Path, *extra: str) -> int:
    """``foldrace run`` in-process, with the race replaced by ``result``."""
    monkeypatch.setattr("foldrace.harness.race", lambda *args, **kwargs: result)
    argv = ["run", "--executors", "map", "--workers", "1", "--quiet", "--out", str(out)]
    return main([*argv, *extra])


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_each_run_gets_its_own_folder_and_latest_the_last_complete(tiny, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert _fake_run(monkeypatch, tiny, out) == ExitCode.OK
    first = latest(out)
    kept = _snapshot(first)
    assert set(kept) == {
        "results.json", "summary.csv", "timings.csv", "tasks.csv", "scores.csv",
        "accounting.csv", "speedup.png", "speedup.svg", "accounting.png", "accounting.svg",
    }  # fmt: skip
    assert _fake_run(monkeypatch, tiny, out, "--no-plot") == ExitCode.OK
    second = latest(out)
    assert second != first  # unique even within the same second
    assert second.name.startswith(first.name[: len("run-YYYYMMDD-HH")])
    assert not (second / "speedup.png").exists()  # no figure left from the earlier run
    assert _snapshot(first) == kept
    assert sorted(p.name for p in out.iterdir()) == sorted(["latest", first.name, second.name])


def test_a_kill_between_writes_keeps_the_previous_run(tiny, tmp_path, monkeypatch, capsys):
    from test_files import fail_on_file, leftovers

    out = tmp_path / "out"
    assert _fake_run(monkeypatch, tiny, out) == ExitCode.OK
    first = latest(out)
    kept = _snapshot(first)
    fail_on_file(monkeypatch, 3, KeyboardInterrupt())
    assert _fake_run(monkeypatch, tiny, out) == ExitCode.INTERRUPTED
    assert "interrupted" in capsys.readouterr().err
    assert latest(out) == first
    assert _snapshot(first) == kept
    assert sorted(p.name for p in out.iterdir()) == ["latest", first.name]
    assert not leftovers(out)


@pytest.mark.parametrize("number", [1, 6, 10], ids=["first-csv", "json", "last-figure"])
def test_a_full_disk_while_writing_exits_2_and_leaves_nothing(
    tiny, tmp_path, monkeypatch, capsys, number
):
    import errno

    from test_files import fail_on_file, leftovers

    out = tmp_path / "out"
    assert _fake_run(monkeypatch, tiny, out) == ExitCode.OK
    first = latest(out)
    kept = _snapshot(first)
    capsys.readouterr()
    opened = fail_on_file(monkeypatch, number, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    assert _fake_run(monkeypatch, tiny, out) == ExitCode.BAD_INPUT
    assert len(opened) == number  # nothing was written after the failure
    err = capsys.readouterr().err
    assert err.startswith("foldrace run: error: cannot write ")
    assert "No space left on device; nothing was written" in err
    assert len(err.strip().splitlines()) == 1, err
    assert latest(out) == first
    assert _snapshot(first) == kept
    assert sorted(p.name for p in out.iterdir()) == ["latest", first.name]
    assert not leftovers(out)


def test_plot_on_a_full_disk_keeps_the_earlier_figures(tiny, tmp_path, monkeypatch, capsys):
    import errno

    from test_files import fail_on_file, leftovers

    path = tiny.write(tmp_path)["results"]
    assert main(["plot", str(path)]) == ExitCode.OK
    figures = ("speedup.png", "speedup.svg", "accounting.png", "accounting.svg")
    before = {name: (tmp_path / name).read_bytes() for name in figures}
    capsys.readouterr()
    fail_on_file(monkeypatch, 4, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    assert main(["plot", str(path)]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert "accounting.svg': No space left on device" in err
    assert len(err.strip().splitlines()) == 1
    assert {name: (tmp_path / name).read_bytes() for name in figures} == before  # all kept
    assert not leftovers(tmp_path)


@pytest.mark.processes
@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_an_interrupted_second_run_keeps_the_first_and_latest(tmp_path):
    import signal
    import threading
    import time

    out = tmp_path / "out"
    base = ["run", "--executors", "starmap", "--workers", "1", "--out", str(out)]
    done = foldrace_command(*base, "--repeats", "1", "--quiet", "--no-plot")
    assert done.returncode == ExitCode.OK, done.stderr
    first = latest(out)
    kept = _snapshot(first)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "foldrace",
            *base,
            "--repeats",
            "50",
            "--samples",
            "300",
            "--progress",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(iter(lambda: process.stderr.read(1), "")))
    reader.start()
    deadline = time.monotonic() + 60
    finished = re.compile(r"\b([3-9]|[1-9]\d+)/\d+ \[")  # the warm-up round, a timed run
    while time.monotonic() < deadline and not finished.search("".join(err)):
        time.sleep(0.1)  # until the progress bar shows them
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        reader.join(timeout=60)
    text = "".join(err)
    assert process.returncode == ExitCode.INTERRUPTED, text
    assert "Traceback" not in text
    second = [p for p in out.iterdir() if p.name.startswith("run-") and p != first]
    assert len(second) == 1, text
    assert f"saved in {second[0]}/, marked incomplete" in text
    data = json.loads((second[0] / "results.json").read_text())
    assert data["meta"]["complete"] is False
    assert len(data["timings"]) >= 1
    assert latest(out) == first
    assert _snapshot(first) == kept
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def _results_file(tiny, tmp_path, change) -> Path:
    data = json.loads((tiny.write(tmp_path / "run")["results"]).read_text())
    change(data)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    return path


def _set(table: str, field: str, value):
    def change(data):
        data[table][0][field] = value

    return change


def _drop(table: str, field: str):
    def change(data):
        del data[table][0][field]

    return change


def _top(field: str, value=None, delete=False):
    def change(data):
        if delete:
            del data[field]
        else:
            data[field] = value

    return change


def _meta(*path, value):
    def change(data):
        target = data["meta"]
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


BAD_FIELDS = [
    (_set("timings", "run_s", "fast"), "timings[0].run_s must be a finite number of seconds"),
    (_set("timings", "run_s", -1.0), "timings[0].run_s must be a finite number of seconds"),
    (_set("timings", "workers", "two"), "timings[0].workers must be an integer of at least 1"),
    (_set("timings", "workers", 0), "timings[0].workers must be an integer of at least 1, got 0"),
    (_set("timings", "workers", True), "timings[0].workers must be an integer"),
    (_set("timings", "granularity", "model"), "timings[0].granularity must be one of fold"),
    (_drop("timings", "run_s"), "timings[0] has no 'run_s' field"),
    (_set("tasks", "pid", None), "tasks[0].pid must be an integer, got None"),
    (_set("tasks", "duration_s", [1]), "tasks[0].duration_s must be a finite number"),
    (_set("scores", "score", "high"), "scores[0].score must be a number or null, got 'high'"),
    (
        _meta("schedules", "map/thread", value="roundrobin"),
        "meta.schedules['map/thread'] must be a known",
    ),
    (_meta("workers", value=[0]), "meta.workers must be a list of integers of at least 1"),
    (_meta("complete", value="no"), "meta.complete must be true or false"),
    (_meta("machine", "usable_cpus", value="two"), "meta.machine.usable_cpus must be"),
    (_top("format", 2), "has format 2, which this version of foldrace cannot read"),
    (_top("format", delete=True), "damaged: it has no 'format' field"),
    (_top("scores", delete=True), "damaged: it has no 'scores' field"),
    (_top("timings", {}), "damaged: 'timings' must be a list"),
]


@pytest.mark.parametrize("command", ["plot", "timeline", "whatif"])
@pytest.mark.parametrize(("change", "message"), BAD_FIELDS)
def test_wrongly_typed_results_fields_exit_2_naming_field_and_file(
    tiny, tmp_path, capsys, command, change, message
):
    path = _results_file(tiny, tmp_path, change)
    assert main([command, str(path), "--out", str(tmp_path / "figures")]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert message in err
    assert f"'{path}'" in err
    assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "figures").exists()


@pytest.mark.parametrize("command", ["plot", "timeline", "whatif"])
def test_a_run_interrupted_before_any_timed_run_exits_2(tiny, tmp_path, capsys, command):
    from foldrace import RaceResult

    empty = RaceResult.from_runs([], tiny.meta | {"complete": False})
    path = empty.write(tmp_path / "run")["results"]
    assert main([command, str(path), "--out", str(tmp_path / "figures")]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    verb = {"plot": "plot", "timeline": "draw", "whatif": "predict from"}[command]
    assert err.strip() == (
        f"foldrace {command}: error: no timed runs to {verb} in '{path}' (the run was "
        "interrupted before any finished)"
    )
    assert not (tmp_path / "figures").exists()


@pytest.mark.processes
def test_whatif_predicts_at_more_workers_and_writes_its_set(small_workload, tmp_path, capsys):
    from foldrace import race

    one = race(small_workload, ["map"], [1], repeats=1, warmup=0)  # processes: a prediction
    path = one.write(tmp_path / "run")["results"]
    out = tmp_path / "w"
    argv = ["whatif", str(path), "--workers", "1", "2", "16", "--out", str(out)]
    assert main(argv) == ExitCode.OK
    printed = capsys.readouterr().out
    assert "Predicted speedup (a CPU per worker)" in printed
    assert sorted(p.name for p in out.iterdir()) == ["whatif.csv", "whatif.png", "whatif.svg"]
    table = pd.read_csv(out / "whatif.csv")
    assert sorted(table["workers"]) == [1, 2, 16]
    assert table.loc[table["workers"] == 1, "measured"].notna().all()  # the race's own point
    assert table.loc[table["workers"] > 1, "measured"].isna().all()  # raced at 1 only
    assert main([*argv, "--cpus", "2"]) == ExitCode.OK
    shared = pd.read_csv(out / "whatif.csv")
    assert (shared["predicted"] <= 2 + 1e-9).all()
    assert "(2 CPUs shared)" in capsys.readouterr().out


@pytest.mark.processes
def test_whatif_without_any_executor_at_one_worker_exits_2(small_workload, tmp_path, capsys):
    from foldrace import race

    two = race(small_workload, ["map"], [2], repeats=1, warmup=0)
    path = two.write(tmp_path / "run")["results"]
    argv = ["whatif", str(path), "--out", str(tmp_path / "w")]
    assert main(argv) == ExitCode.BAD_INPUT
    assert "needs serial and each executor measured at 1 worker" in capsys.readouterr().err
    assert not (tmp_path / "w").exists()


def test_timeline_at_a_worker_count_not_raced_creates_no_folder(tiny, tmp_path, capsys):
    path = tiny.write(tmp_path / "run")["results"]
    figures = tmp_path / "figures"
    argv = ["timeline", str(path), "--workers", "7", "--out", str(figures)]
    assert main(argv) == ExitCode.BAD_INPUT
    assert "no run at workers=7" in capsys.readouterr().err
    assert not figures.exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "holds no results.json and no 'latest' run"),
        (lambda p: (p / "run-20250101-000000").mkdir(parents=True), "no results.json"),
    ],
)
def test_plot_of_a_folder_without_results_exits_2(tmp_path, capsys, make, message):
    folder = tmp_path / "out"
    make(folder)
    assert main(["plot", str(folder)]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_plot_of_an_out_folder_with_only_incomplete_runs_names_one(tiny, tmp_path, capsys):
    from foldrace import RaceResult

    partial = RaceResult.from_runs([], tiny.meta | {"complete": False})
    partial.write(tmp_path / "out" / "run-20250101-000000")
    assert main(["plot", str(tmp_path / "out")]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert "holds no complete run ('latest' is missing)" in err
    assert "run-20250101-000000" in err


def test_an_interrupted_dispatch_creates_no_folder(tmp_path, monkeypatch, capsys):
    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("foldrace.dispatch.dispatch_cost", stopped)
    out = tmp_path / "new" / "dispatch"
    assert main(["dispatch", "--out", str(out)]) == ExitCode.INTERRUPTED
    assert not (tmp_path / "new").exists()


def test_version_is_the_installed_one(capsys):
    from importlib.metadata import version

    import foldrace

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"foldrace {version('foldrace')}\n"
    assert foldrace.__version__ == version("foldrace")


@pytest.mark.processes
def test_the_progress_bar_shows_on_a_terminal_or_when_asked(tmp_path):
    base = ["run", "--executors", "starmap", "--workers", "1", "--repeats", "1"]
    base += ["--samples", "100", "--no-plot", "--out", str(tmp_path / "out")]
    logged = foldrace_command(*base)  # standard error is a pipe here, as when sent to a log file
    assert logged.returncode == ExitCode.OK, logged.stderr
    assert not re.search(r"(^|\r)race:", logged.stderr, flags=re.MULTILINE)  # no bar
    assert "\r" not in logged.stderr
    asked = foldrace_command(*base, "--progress")
    assert asked.returncode == ExitCode.OK, asked.stderr
    assert "race: 100%" in asked.stderr


@pytest.mark.processes
def test_json_output_of_executors_and_run(tmp_path, capsys):
    assert main(["executors", "--json"]) == ExitCode.OK
    listed = json.loads(capsys.readouterr().out)
    assert [row["executor"] for row in listed] == list(executor_names())
    assert all(row["summary"] for row in listed)
    options = ["run", "--executors", "map", "--workers", "1", "2", "--repeats", "1"]
    code = main([*options, "--samples", "200", "--json", "--no-plot", "--out", str(tmp_path)])
    assert code == ExitCode.OK
    summary = json.loads(capsys.readouterr().out)  # the whole of standard output
    assert summary["identical"] is True
    assert [(c["executor"], c["workers"]) for c in summary["cells"]] == [
        ("serial", 1), ("map", 1), ("map", 2),
    ]  # fmt: skip
    assert all(Path(p).exists() for p in summary["files"])


def test_help_names_every_command_in_plain_text(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for command in ("run", "plot", "timeline", "dispatch", "executors"):
        assert command in text.split("positional arguments:")[0]  # in the description too
    assert "``" not in text
    assert ":func:" not in text
    assert "Exit codes: 0 success" in text


def test_the_cli_reference_page_lists_exactly_the_parsers_options():
    import argparse

    from foldrace.cli import build_parser

    page = (Path(__file__).resolve().parents[1] / "docs" / "reference" / "cli.md").read_text()
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    offered = {"--version"}
    for sub in commands.choices.values():
        offered |= {o for a in sub._actions for o in a.option_strings if o.startswith("--")}
    offered -= {"--help"}
    documented = set(re.findall(r"`(--[a-z][a-z-]*)", page))
    assert offered - documented == set(), "options missing from docs/reference/cli.md"
    assert documented - offered == set(), "options documented that the parser does not take"


@pytest.mark.processes
def test_dispatch_says_what_it_will_time_shows_progress_and_how_long_it_took(tmp_path):
    done = foldrace_command(
        "dispatch", "--executors", "apply", "map", "--tasks", "20", "--repeats", "1",
        "--progress", "--out", str(tmp_path / "d"),
    )  # fmt: skip
    assert done.returncode == ExitCode.OK, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("Timing 6 runs of 20 trivial tasks (3 executor variants")  # map: 2
    assert "dispatch: 100%" in done.stderr
    assert "start-up: 100%" in done.stderr
    assert re.search(r"^Finished in \d+\.\d s\.$", done.stdout, flags=re.MULTILINE)
    assert (tmp_path / "d" / "dispatch.png").exists()

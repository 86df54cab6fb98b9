"""The speedup figure: what it must show at a glance."""

from __future__ import annotations

import pytest

from foldrace import InputError, RaceResult, plot_speedup, race
from foldrace.plots import bar_figure, save_figure, write_figure
from foldrace.whatif import plot_whatif, predicted_curves


@pytest.fixture(scope="module")
def result(small_workload) -> RaceResult:
    return race(small_workload, ["apply", "starmap"], [1, 2], repeats=2, warmup=0)


def test_figure_has_executors_ideal_bound_cpu_marker_and_caption(result):
    fig = plot_speedup(result)
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.get_lines()]
    expected = {"apply", "starmap", "ideal (linear)", "bound from serial task times (3 tasks)"}
    assert expected <= set(labels)
    assert "serial" not in labels  # the reference is the 1.0 line, not a curve
    assert ax.get_xlabel() == "workers"
    assert "speedup" in ax.get_ylabel()
    texts = [t.get_text() for t in ax.texts]
    assert any("CPUs" in t for t in texts)
    assert any("3 equal tasks: ≤ 1.50×" in t for t in texts)
    caption = fig._supxlabel.get_text()
    machine = result.meta["machine"]
    assert f"{machine['usable_cpus']} CPUs" in caption
    assert f"Python {machine['python']}" in caption
    assert f"scikit-learn {machine['scikit-learn']}" in caption
    assert "300 x 20" in caption


def test_curves_plot_the_median_speedups(result):
    (ax,) = plot_speedup(result).axes
    starmap = next(line for line in ax.get_lines() if line.get_label() == "starmap")
    summary = result.summary().query("executor == 'starmap'")
    assert list(starmap.get_xdata()) == [1, 2]
    assert list(starmap.get_ydata()) == pytest.approx(summary["speedup"].tolist())


def test_save_writes_png_and_svg(result, tmp_path):
    paths = save_figure(plot_speedup(result), tmp_path / "speedup")
    assert [p.name for p in paths] == ["speedup.png", "speedup.svg"]
    assert paths[0].read_bytes()[:4] == b"\x89PNG"
    assert b"<svg" in paths[1].read_bytes()[:2000]


def test_write_figure_makes_the_folder_and_says_where_it_wrote(result, tmp_path, capsys):
    out = tmp_path / "new" / "folder"
    paths = write_figure(plot_speedup(result), out, "speedup")
    assert paths == [out / "speedup.png", out / "speedup.svg"]
    assert all(path.stat().st_size > 0 for path in paths)
    assert capsys.readouterr().out == f"wrote {out / 'speedup.png'}\n"


def test_bar_figure_names_the_machine_unless_given_a_caption():
    import pandas as pd

    from foldrace.machine import describe_machine, machine_caption

    table = pd.DataFrame({"executor": ["serial", "starmap"], "seconds": [1.0, 0.6]})
    bars = {"value": "seconds", "label": "executor", "title": "t", "xlabel": "s"}
    machine = f"Machine: {machine_caption(describe_machine())}."
    caption = bar_figure(table, **bars)._supxlabel.get_text()
    assert caption.split() == machine.split()  # wrapped to the figure's width
    assert bar_figure(table, **bars, caption="mine")._supxlabel.get_text() == "mine"


def test_timeline_shows_apply_one_task_at_a_time(small_workload):
    from foldrace.plots import plot_timeline
    from foldrace.testing import SlowClassifier

    slow = foldrace_workload(small_workload, SlowClassifier(seconds_per_sample=2e-4))
    result = race(slow, ["apply", "apply_async"], [2], repeats=1, warmup=0)
    fig = plot_timeline(result)
    titles = {ax.get_title(loc="left").split(":")[0]: ax.get_title(loc="left") for ax in fig.axes}
    assert set(titles) == {"serial", "apply", "apply_async"}
    assert "at most 1 busy at once" in titles["apply"]
    assert "at most 2 busy at once" in titles["apply_async"]
    for ax in fig.axes:
        assert len(ax.patches) == 3  # one bar per fold


def test_a_timeline_per_fold_and_model_names_each_colour_and_keeps_the_race_order(
    small_workload,
):
    from foldrace.plots import plot_timeline

    result = race(
        small_workload, ["starmap", "apply"], [2], repeats=1, warmup=0, granularity="fold-model"
    )
    fig = plot_timeline(result)
    panels = [ax for ax in fig.axes if ax.get_title(loc="left")]
    assert [ax.get_title(loc="left").split(":")[0] for ax in panels] == [
        "serial", "starmap", "apply",
    ]  # fmt: skip
    for ax in panels:
        assert len(ax.patches) == 6  # one bar per fold and model
        labels = {text.get_text() for text in ax.texts}
        assert labels <= {"0", "1", "2"}  # the fold's number only, never the model's name
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert len(legends) == 1
    assert [t.get_text() for t in legends[0].get_texts()] == ["logit", "rf"]
    assert "coloured by model" in panels[-1].get_xlabel()


def foldrace_workload(base, estimator):
    from foldrace import Workload

    return Workload(base.X, base.y, {"slow": estimator}, folds=base.folds)


def test_both_plots_draw_into_a_users_axes(result):
    from matplotlib.figure import Figure

    from foldrace.plots import plot_timeline

    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert plot_speedup(result, ax=left) is fig
    assert {line.get_label() for line in left.get_lines()} >= {"apply", "starmap"}
    assert plot_timeline(result, ax=right, executor="starmap") is fig
    assert right.get_title(loc="left").startswith("starmap: ")
    assert len(right.patches) == len(result.tasks["fold"].unique())  # one bar per task
    assert fig.texts == []  # no caption or title of its own in someone else's figure
    with pytest.raises(InputError, match="no run of 'nope'"):
        plot_timeline(result, ax=right, executor="nope")


def test_a_result_shows_itself_briefly_and_as_a_table_in_a_notebook(result):
    text = repr(result)
    assert text.startswith("<RaceResult: ")
    assert "\n" not in text
    assert "3 executors, 5 cells, identical scores>" in text  # serial, apply@1,2, starmap@1,2
    html = result._repr_html_()
    assert html.count("<tr") == 1 + 5  # the header and one row per cell
    assert "starmap" in html
    assert "identical" in html.lower()


def test_what_if_curves_stay_under_their_limits_and_plateau_past_the_task_count(result):
    curves = predicted_curves(result, workers=(1, 2, 3, 4, 8, 64))
    assert set(curves["executor"]) == {"apply", "starmap"}  # serial is the reference
    assert (curves["predicted"] <= curves["bound"] + 1e-9).all()  # costs only lengthen tasks
    assert (curves["predicted"] <= curves["workers"] + 1e-9).all()
    apply = curves[curves["executor"] == "apply"]
    assert (apply["predicted"] <= 1 + 1e-9).all()  # one task at a time, at any worker count
    starmap = curves[curves["executor"] == "starmap"].set_index("workers")["predicted"]
    assert starmap[64] == starmap[3]  # 3 tasks: a fourth worker has nothing to do
    measured = curves.dropna(subset=["measured"])
    assert set(measured["workers"]) == {1, 2}  # the race's own points, beside the predictions
    shared = predicted_curves(result, workers=(1, 2, 3, 4), cpus=2)
    assert (shared["predicted"] <= 2 + 1e-9).all()  # 2 CPUs shared: never more than 2x


@pytest.mark.filterwarnings("ignore:.*look disturbed:RuntimeWarning")
def test_what_if_refuses_bad_counts_and_skips_thread_pools(result, small_workload):
    with pytest.raises(ValueError, match="at least 1"):
        predicted_curves(result, workers=(0, 2))
    with pytest.raises(ValueError, match="cpus must be at least 1"):
        predicted_curves(result, cpus=0)
    threads = race(small_workload, ["starmap/thread"], [1], repeats=1, warmup=0)
    assert predicted_curves(threads).empty  # the model knows nothing of the GIL


def test_what_if_figure_draws_coinciding_predictions_once_and_the_measured_points(result):
    fig = plot_whatif(result, workers=(1, 2, 4, 8))
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.get_lines()]
    predicted = [label for label in labels if label.endswith("(predicted)")]
    assert len(predicted) == len(set(predicted))
    assert any(label.startswith("apply") for label in predicted)
    assert {"apply (measured)", "starmap (measured)", "granularity bound"} <= set(labels)
    dashed = [line for line in ax.get_lines() if line.get_label().endswith("(predicted)")]
    assert all(line.get_linestyle() == "--" for line in dashed)
    assert "predicted" in fig._suptitle.get_text()

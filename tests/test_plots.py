"""The speedup figure: what it must show at a glance."""

from __future__ import annotations

import itertools
from pathlib import Path

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
    panels = [ax for ax in fig.axes if ax.get_title(loc="left")]  # the last axes: the key
    titles = {ax.get_title(loc="left").split(":")[0]: ax.get_title(loc="left") for ax in panels}
    assert set(titles) == {"serial", "apply", "apply_async"}
    assert len(fig.axes) == len(panels) + 1
    assert "at most 1 busy at once" in titles["apply"]
    assert "at most 2 busy at once" in titles["apply_async"]
    for ax in panels:
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
    assert "colour: the model" in legends[0].get_title().get_text()
    assert panels[-1].get_xlabel() == "seconds since dispatch began"  # the axis, nothing else
    assert "labelled" not in " ".join(ax.get_xlabel() for ax in fig.axes)
    _assert_bar_numbers_fit_apart(fig, panels)


def _assert_bar_numbers_fit_apart(fig, panels):
    """Each bar's number is one fold's, inside its bar, and clear of every other number."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    for ax in panels:
        bars = [patch.get_window_extent(renderer) for patch in ax.patches]
        boxes = [text.get_window_extent(renderer) for text in ax.texts]
        assert boxes, "no bar is numbered"
        for text, box in zip(ax.texts, boxes, strict=True):
            assert text.get_text().isdigit()  # "0", never "0:logit" or "0:logit1:logit"
            assert any(
                bar.x0 <= box.x0 and box.x1 <= bar.x1 and bar.y0 <= box.y0 <= bar.y1 for bar in bars
            ), text.get_text()
        for i, box in enumerate(boxes):
            assert not any(box.overlaps(other) for other in boxes[i + 1 :])


def test_a_per_fold_timeline_says_what_a_bar_is_in_a_key_not_on_the_axis(small_workload):
    from foldrace.plots import plot_timeline

    result = race(small_workload, ["starmap"], [2], repeats=1, warmup=0)
    fig = plot_timeline(result)
    panels = [ax for ax in fig.axes if ax.get_title(loc="left")]
    assert panels[-1].get_xlabel() == "seconds since dispatch began"
    (legend,) = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert "its number: the fold" in legend.get_title().get_text()
    assert [t.get_text() for t in legend.get_texts()] == ["logit+rf (one task per fold)"]
    _assert_bar_numbers_fit_apart(fig, panels)


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


def _summary(predictions):
    """A hand-made two-worker summary: executor -> predicted speedup at 2 workers."""
    import pandas as pd

    rows = []
    for name, predicted in predictions.items():
        for workers, speedup in ((1, 1.0), (2, 1.4)):
            rows.append(
                {
                    "granularity": "fold", "executor": name, "workers": workers,
                    "n_tasks": 3, "speedup": speedup, "speedup_low": speedup - 0.05,
                    "speedup_high": speedup + 0.05, "bound": 1.0 if workers == 1 else 1.85,
                    "predicted": 1.0 if workers == 1 else predicted,
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


def _crosses(ax):
    return [line for line in ax.get_lines() if line.get_marker() == "x" and len(line.get_xdata())]


def test_predictions_that_coincide_are_spread_sideways_in_each_executors_colour():
    from matplotlib.figure import Figure

    from foldrace.plots import draw_speedup, executor_colour

    ax = Figure().subplots()
    names = ["apply_async", "map", "starmap"]
    draw_speedup(ax, _summary({**dict.fromkeys(names, 1.85), "apply": 1.0}))
    at_two = [line for line in _crosses(ax) if abs(line.get_xdata()[0] - 2) < 0.5]
    high = sorted((line for line in at_two if line.get_ydata()[0] > 1.5), key=_x)
    assert [line.get_color() for line in high] == [executor_colour(n) for n in names]
    xs = [_x(line) for line in high]
    assert len(set(xs)) == 3  # three crosses, three places: every colour shows
    assert min(b - a for a, b in itertools.pairwise(xs)) > 0.03
    assert sum(xs) / 3 == pytest.approx(2.0)  # centred on their worker count
    (alone,) = [line for line in at_two if line.get_ydata()[0] < 1.5]
    assert _x(alone) == 2.0  # apply predicts another value: no need to move it
    at_one = [_x(line) for line in _crosses(ax) if _x(line) < 1.5]
    assert len(set(at_one)) == 4  # all four predict 1.0 at one worker


def _x(line):
    return float(line.get_xdata()[0])


def test_thread_pools_get_no_predicted_cross_and_the_legend_says_why():
    from matplotlib.figure import Figure

    from foldrace.plots import draw_speedup, executor_colour

    ax = Figure().subplots()
    draw_speedup(ax, _summary({"starmap": 1.5, "starmap/thread": 1.5}))
    colours = {line.get_color() for line in _crosses(ax)}
    assert colours == {executor_colour("starmap")}
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert any("none for threads" in label and "GIL" in label for label in labels)


def _extent(artist, renderer):
    return artist.get_window_extent(renderer)


def _drawn(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    return renderer


def test_speedup_legends_sit_outside_the_curves(result):
    fig = plot_speedup(result)
    renderer = _drawn(fig)
    (ax,) = fig.axes
    legend = _extent(ax.get_legend(), renderer)
    assert legend.x0 >= _extent(ax, renderer).x1  # to the right of the axes, not over them


def test_benchmark_legends_sit_beside_each_panel_off_the_curves():
    from foldrace.benchjson import benchmark_figure, read_benchmark_json

    data = Path(__file__).resolve().parents[1] / "docs" / "data" / "bench-2cpu.json"
    fig = benchmark_figure([read_benchmark_json(data)])
    renderer = _drawn(fig)
    panels = [ax for ax in fig.axes if ax.get_legend() is not None]
    assert panels
    for ax in panels:
        legend = _extent(ax.get_legend(), renderer)
        assert not legend.overlaps(_extent(ax, renderer))
        for line in ax.get_lines():
            if len(line.get_xdata()):
                assert not legend.overlaps(line.get_window_extent(renderer))


def test_a_run_with_several_panels_stacks_them_each_with_its_legend(small_workload):
    result = race(
        small_workload, ["starmap"], [1, 2], repeats=1, warmup=0, granularity=["fold", "fold-model"]
    )
    fig = plot_speedup(result)
    renderer = _drawn(fig)
    top, bottom = fig.axes
    assert _extent(top, renderer).y0 > _extent(bottom, renderer).y1  # one above the other
    for ax in (top, bottom):
        assert _extent(ax.get_legend(), renderer).x0 >= _extent(ax, renderer).x1
    assert top.get_xlabel() == ""  # "workers" once, under the lowest panel
    assert bottom.get_xlabel() == "workers"


def test_the_caption_names_every_start_method_thread_pools_and_clusters(result):
    from dataclasses import replace

    def configs(*pools):
        return {
            "serial": {"pool": None, "start_method": None},
            **{f"e{i}": {"pool": p, "start_method": m} for i, (p, m) in enumerate(pools)},
        }

    def caption(meta):
        fig = plot_speedup(replace(result, meta=result.meta | meta))
        return " ".join(fig._supxlabel.get_text().split())

    assert caption({"start_method": "fork", "configs": configs(("process", "fork"))}).endswith(
        "start method fork."
    )
    several = configs(("process", "fork"), ("process", "spawn"), ("process", "forkserver"))
    text = caption({"start_method": "fork", "configs": several})
    assert "start methods fork, spawn and forkserver." in text
    mixed = configs(("process", "fork"), ("thread", None), ("dask", None))
    meta = {"configs": mixed, "clusters": {"dask": {"kind": "dask", "embedded": True}}}
    assert "start method fork; thread pools; a local Dask cluster." in caption(meta)
    remote = configs(("dask", None))
    meta = {"configs": remote, "clusters": {"dask": {"kind": "dask", "embedded": False}}}
    text = caption(meta)
    assert "a Dask cluster." in text
    assert "start method" not in text


def test_bar_panels_can_each_keep_their_own_scale():
    import pandas as pd

    table = pd.DataFrame(
        {
            "samples": [1000, 1000, 1_000_000, 1_000_000],
            "executor": ["serial", "starmap", "serial", "starmap"],
            "seconds": [0.01, 0.04, 1.0, 1.8],
        }
    )
    bars = {"value": "seconds", "label": "executor", "group": "samples", "title": "t"}
    small, large = bar_figure(table, **bars, xlabel="s", caption="c", sharex=False).axes
    assert small.get_xlim()[1] == pytest.approx(0.04 * 1.2)  # not a sliver beside 1.8 s
    assert large.get_xlim()[1] == pytest.approx(1.8 * 1.2)
    assert "its own scale" in small.get_title(loc="left")
    shared = bar_figure(table, **bars, xlabel="s", caption="c").axes
    assert [ax.get_xlim()[1] for ax in shared] == pytest.approx([1.8 * 1.2] * 2)


def test_start_method_bars_name_their_method_and_keep_the_executors_colour():
    import pandas as pd
    from matplotlib.colors import to_hex

    from foldrace.plots import executor_colour

    table = pd.DataFrame(
        {
            "executor": ["starmap", "starmap/spawn"],
            "bar": ["fork: starmap", "spawn: starmap/spawn"],
            "ms": [18.0, 1340.0],
        }
    )
    (ax,) = bar_figure(
        table, value="ms", label="bar", colour_by="executor", title="t", xlabel="ms", caption="c"
    ).axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["fork: starmap", "spawn: starmap/spawn"]
    colours = [to_hex(bar.get_facecolor()) for bar in ax.patches]
    assert colours == [executor_colour("starmap"), executor_colour("starmap/spawn")]


def test_dispatch_legend_leaves_every_start_up_label_clear():
    import pandas as pd

    from foldrace.dispatch import dispatch_figure

    dispatch = pd.DataFrame(
        {"executor": ["map"], "variant": ["default"], "us_per_task": [1.0], "n_tasks": [10]}
    )
    startup = pd.DataFrame(
        {
            "method": ["fork", "spawn", "forkserver"],
            "start_s": [0.01, 0.92, 0.81],
            "stop_s": [0.004, 0.2, 0.04],
            "workers": 2,
        }
    )
    fig = dispatch_figure(dispatch, startup, caption="c")
    renderer = _drawn(fig)
    right = fig.axes[1]
    legend = _extent(right.get_legend(), renderer)
    labels = [_extent(text, renderer) for text in right.texts]
    assert [text.get_text() for text in right.texts] == ["14 ms", "1120 ms", "850 ms"]
    assert not any(legend.overlaps(label) for label in labels)
    assert not legend.overlaps(_extent(right, renderer))

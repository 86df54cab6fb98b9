"""Where the speedup went: each parallel run's workers x wall time, part by part."""

from __future__ import annotations

import itertools
import math

import pandas as pd
import pytest

import foldrace
from foldrace import RaceResult
from foldrace.accounting import ACCOUNT_COLUMNS, PARTS, account, account_runs, worker_lanes
from foldrace.fold import FoldResult
from foldrace.results import Run


def _task(fold, start, end, pid=1):
    return FoldResult(fold, {"m": 0.5}, pid, start, end)


def _serial(repeat, first):
    """A serial run whose fold 0 took ``first`` seconds, folds 1 and 2 two and one."""
    tasks = [_task(0, 0.0, first), _task(1, first, first + 2.0), _task(2, first + 2.0, first + 3.0)]
    return Run("fold", "serial", 1, repeat, 0.0, 0.0, first + 3.0, 0.0, tasks)


SERIAL = [_serial(0, 1.2), _serial(1, 1.0), _serial(2, 0.8)]  # fold 0: median 1.0 s; 4.0 in all

PROCESSES = Run(
    "fold",
    "map",
    2,
    0,
    100.0,
    0.5,
    3.0,
    0.25,
    [
        _task(0, 100.1, 101.3, pid=11),
        _task(1, 100.0 - 1e-6, 102.2, pid=12),  # its clock a microsecond behind the parent's
        _task(2, 101.5, 102.5, pid=11),
    ],
)

THREADS = Run(
    "fold",
    "map/thread",
    3,
    0,
    200.0,
    0.001,
    2.5,
    0.001,
    [_task(0, 200.0, 201.0), _task(1, 200.1, 202.0), _task(2, 201.2, 202.4)],
)


def _sums(table: pd.DataFrame) -> pd.Series:
    return table[list(PARTS)].sum(axis=1)


def test_parts_of_a_process_run_exactly():
    row = account(RaceResult.from_runs([*SERIAL, PROCESSES], {})).iloc[0]
    assert row["total_s"] == pytest.approx(2 * 3.75)
    assert row["wall_s"] == pytest.approx(3.75)
    assert row["serial_s"] == pytest.approx(4.0)  # median of fold 0 over the serial repeats
    assert row["contention_s"] == pytest.approx(1.2 + 2.2 + 1e-6 + 1.0 - 4.0)
    assert row["pool_s"] == pytest.approx(2 * (0.5 + 0.25))
    assert row["gaps_s"] == pytest.approx(0.1 + 0.2)  # pid 12's -1 µs gap counts as 0
    assert row["idle_s"] == pytest.approx((103.0 - 102.5) + (103.0 - 102.2))
    assert row["unaccounted_s"] == pytest.approx(-1e-6, abs=1e-9)  # the clamped gap
    assert (row["lanes"], row["n_tasks"]) == (2, 3)
    assert _sums(pd.DataFrame([row])).iloc[0] == pytest.approx(row["total_s"], rel=1e-6)
    assert row["serial_frac"] == pytest.approx(4.0 / 7.5)


def test_parts_of_a_thread_run_with_a_worker_that_got_no_task():
    row = account(RaceResult.from_runs([*SERIAL, THREADS], {})).iloc[0]
    # one pid: lanes packed by time, fold 2 after fold 0 (free since 201.0) in lane 0
    assert row["lanes"] == 2
    assert row["gaps_s"] == pytest.approx(0.2 + 0.1)
    # lane 0 from 202.4, lane 1 from 202.0, the third worker all of run_s
    assert row["idle_s"] == pytest.approx(0.1 + 0.5 + 2.5)
    assert row["contention_s"] == pytest.approx(4.1 - 4.0)
    assert row["pool_s"] == pytest.approx(3 * 0.002)
    assert row["total_s"] == pytest.approx(3 * 2.502)
    assert row["unaccounted_s"] == pytest.approx(0.0, abs=1e-9)
    assert sum(row[f"{p.removesuffix('_s')}_frac"] for p in PARTS) == pytest.approx(1.0)


def test_one_row_per_parallel_cell_its_median_repeat_in_order():
    slower = Run("fold", "map", 2, 1, 100.0, 0.5, 4.0, 0.25, PROCESSES.results)
    faster = Run("fold", "map", 2, 2, 100.0, 0.5, 2.6, 0.25, PROCESSES.results)
    result = RaceResult.from_runs([*SERIAL, THREADS, slower, PROCESSES, faster], {})
    table = account(result)
    assert tuple(table.columns) == ACCOUNT_COLUMNS
    assert list(table["executor"]) == ["map/thread", "map"]  # as they ran; no serial row
    assert table.set_index("executor").loc["map", "repeat"] == 0  # run_s 3.0 of 2.6, 3.0, 4.0
    runs = account_runs(result)
    assert len(runs) == 4
    assert (_sums(runs) - runs["unaccounted_s"]).tolist() == pytest.approx(runs["total_s"].tolist())


def test_without_a_serial_run_the_task_parts_are_nan_and_the_rest_is_kept():
    row = account(RaceResult.from_runs([PROCESSES], {})).iloc[0]
    assert math.isnan(row["serial_s"])
    assert math.isnan(row["contention_s"])
    assert row["gaps_s"] == pytest.approx(0.3)


def test_lanes_take_the_lane_freed_last_and_keep_processes_apart():
    threads = pd.DataFrame(
        {"pid": [1, 1, 1, 1], "start": [0.0, 0.0, 0.0, 2.5], "end": [1.0, 2.0, 3.0, 4.0]}
    )
    assert worker_lanes(threads).tolist() == [0, 1, 2, 1]  # lane 1 freed at 2.0, lane 0 at 1.0
    processes = pd.DataFrame({"pid": [7, 8, 7], "start": [0.0, 0.5, 1.0], "end": [1.0, 2.0, 2.0]})
    assert worker_lanes(processes, 2).tolist() == [0, 1, 0]
    # a pool that replaced worker 7 by 9: three pids, two workers, pid 9 takes 7's slot
    replaced = pd.DataFrame({"pid": [7, 8, 9], "start": [0.0, 0.0, 1.5], "end": [1.0, 2.0, 3.0]})
    assert worker_lanes(replaced).tolist() == [0, 1, 2]
    assert worker_lanes(replaced, 2).tolist() == [0, 1, 0]
    assert worker_lanes(threads.iloc[:0]).empty


@pytest.fixture(scope="module")
def raced() -> RaceResult:
    return foldrace.race(
        foldrace.default_workload(n_samples=300), ["map", "apply", "map/thread"], [1, 2], repeats=2
    )


def test_parts_add_up_on_a_real_race(raced):
    table = account(raced)
    cells = list(zip(table["executor"], table["workers"], strict=True))
    assert cells == [(e, w) for e in ("map", "apply", "map/thread") for w in (1, 2)]
    for runs in (account_runs(raced), table):
        assert len(runs) in (12, 6)
        assert ((_sums(runs) - runs["total_s"]).abs() <= 0.02 * runs["total_s"]).all()
        assert (runs["lanes"] <= runs["workers"]).all()
        assert (runs["lanes"] >= 1).all()
    serial = sum(raced.task_durations("fold"))
    assert table["serial_s"].tolist() == pytest.approx([serial] * 6)
    shown = table.merge(raced.timings, on=["granularity", "executor", "workers", "repeat"])
    assert shown["pool_s"].tolist() == pytest.approx(
        (shown["workers"] * (shown["startup_s"] + shown["shutdown_s"])).tolist()
    )
    at_one = table[table["workers"] == 1]
    assert (at_one["lanes"] == 1).all()
    processes = table[table["executor"] != "map/thread"]
    tasks = raced.tasks.merge(processes[["executor", "workers", "repeat"]])
    pids = tasks.groupby(["executor", "workers"])["pid"].nunique()
    assert processes.set_index(["executor", "workers"])["lanes"].sort_index().tolist() == (
        pids.sort_index().tolist()
    )


def test_accounting_survives_the_json_round_trip_and_is_written(raced, tmp_path):
    again = RaceResult.from_dict(raced.to_dict())
    pd.testing.assert_frame_equal(account(again), account(raced))
    paths = raced.write(tmp_path)
    written = pd.read_csv(paths["accounting"])
    assert list(written.columns) == list(ACCOUNT_COLUMNS)
    assert written["total_s"].tolist() == pytest.approx(account(raced)["total_s"].tolist())


def test_figure_has_a_bar_per_cell_and_a_legend_entry_per_part(raced):
    from foldrace.plots import plot_accounting

    fig = plot_accounting(raced)
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        f"{e}, {w} worker{'s' * (w > 1)}" for w in (1, 2) for e in ("map", "apply", "map/thread")
    ]
    assert len(ax.containers) == len(PARTS)
    assert all(len(bars) == 6 for bars in ax.containers)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(PARTS.values())
    caption = fig._supxlabel.get_text()
    assert f"{raced.meta['machine']['usable_cpus']} CPUs" in caption
    # each bar ends at workers x wall time
    table = account(raced).sort_values("workers", kind="stable")
    ends = [bars[-1].get_x() + bars[-1].get_width() for bars in zip(*ax.containers, strict=True)]
    assert ends == pytest.approx(table[list(PARTS)].sum(axis=1).tolist())


def test_timeline_rows_never_hold_two_tasks_at_once(raced):
    from foldrace.plots import plot_timeline

    fig = plot_timeline(raced, workers=2)
    threads = next(ax for ax in fig.axes if ax.get_title(loc="left").startswith("map/thread"))
    rows: dict[float, list[tuple[float, float]]] = {}
    for bar in threads.patches:
        rows.setdefault(bar.get_y(), []).append((bar.get_x(), bar.get_x() + bar.get_width()))
    assert len(threads.patches) == 3
    for spans in rows.values():
        spans.sort()
        assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))

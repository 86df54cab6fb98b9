"""A race's measurements as tidy pandas tables, the figures derived from them, and files.

:class:`RaceResult` holds three tables, one row per observation:

- ``timings``: one row per timed run (executor, workers, repeat) with pool start-up,
  dispatch + compute and shutdown seconds apart;
- ``tasks``: one row per task of each run, with the worker pid and start/end times;
- ``scores``: one row per fold and model of each run.

Everything else (averages, the identical-scores check, speedups, bounds) is computed from
them, so a result read back from JSON gives the same figures as the live one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from foldrace.errors import InputError
from foldrace.files import atomic_write, prepare_out_dir, read_json
from foldrace.fold import FoldResult
from foldrace.limits import granularity_bound, ideal_speedup
from foldrace.schedule import predicted_speedup

__all__ = ["RESULTS_KIND", "RaceResult", "Run", "ScoreCheck", "speedup_table"]

RESULTS_KIND = "foldrace.race"
"""The ``kind`` field that marks a foldrace results JSON file."""

REFERENCE = "serial"
"""The executor whose times and scores every other executor is compared with."""

RUN_KEY = ("granularity", "executor", "workers", "repeat")
TIMING_COLUMNS = (*RUN_KEY, "started", "startup_s", "run_s", "shutdown_s", "total_s")
TASK_COLUMNS = (*RUN_KEY, "task", "fold", "models", "pid", "start", "end", "duration_s")
SCORE_COLUMNS = (*RUN_KEY, "fold", "model", "score")
SUMMARY_COLUMNS = (
    "granularity",
    "executor",
    "workers",
    "n_tasks",
    "median_s",
    "speedup",
    "speedup_low",
    "speedup_high",
    "efficiency",
    "predicted",
    "bound",
    "ideal",
    "pool_s",
    "total_speedup",
)


@dataclass(frozen=True)
class Run:
    """One timed run of one executor: its three phase times and its task results.

    ``started`` is the wall-clock time (``time.time()``) when dispatch began, the origin
    of the run's worker timeline.
    """

    granularity: str
    executor: str
    workers: int
    repeat: int
    started: float
    startup_s: float
    run_s: float
    shutdown_s: float
    results: list[FoldResult]


@dataclass(frozen=True)
class ScoreCheck:
    """Whether every run's averaged scores equal the reference's, bit for bit.

    Attributes
    ----------
    identical : bool
        True when no run differs from the reference.
    reference : dict of str to float
        The reference executor's averaged score per model.
    mismatches : pandas.DataFrame
        One row per differing (executor, workers, repeat, model), with ``score`` and
        ``reference``; empty when identical.
    """

    identical: bool
    reference: dict[str, float]
    mismatches: pd.DataFrame = field(repr=False)

    def describe(self) -> str:
        """One line: ``identical: yes`` or which executors and models differ."""
        if self.identical:
            return "Identical averaged scores across executors: yes"
        parts = sorted(
            {
                f"{row.executor} (workers={row.workers}"
                + ("" if row.granularity == "fold" else f", {row.granularity} tasks")
                + f") on {row.model}"
                for row in self.mismatches.itertuples()
            }
        )
        return "Identical averaged scores across executors: NO, differ: " + "; ".join(parts)


def speedup_table(
    cells: pd.DataFrame, durations: dict[str, list[float]], schedules: dict[str, str]
) -> pd.DataFrame:
    """Add speedups, spread, prediction and bounds to a table of per-cell times.

    Parameters
    ----------
    cells : pandas.DataFrame
        One row per (granularity, executor, workers) with ``median_s``, ``low_s`` and
        ``high_s`` (fastest and slowest run), and optionally ``total_s`` (with pool start-up
        and shutdown). The reference executor's rows give the baseline of each granularity.
    durations : dict of str to list of float
        The reference's task durations per granularity, in task order.
    schedules : dict of str to str
        Each executor's schedule rule (:mod:`foldrace.schedule`); executors missing here get
        no prediction.

    Returns
    -------
    pandas.DataFrame
        ``cells`` with n_tasks, speedup, speedup_low, speedup_high, efficiency, predicted,
        bound, ideal and, where ``total_s`` is given, total_speedup.
    """
    cells = cells.copy()
    nan = float("nan")
    reference = cells[cells["executor"] == REFERENCE].set_index("granularity")
    base = cells["granularity"].map(reference["median_s"]).astype(float)
    keys = list(zip(cells["granularity"], cells["executor"], cells["workers"], strict=True))
    cells["n_tasks"] = [len(durations.get(g, [])) for g, _, _ in keys]
    cells["speedup"] = base / cells["median_s"]
    cells["speedup_low"] = base / cells["high_s"]
    cells["speedup_high"] = base / cells["low_s"]
    cells["efficiency"] = cells["speedup"] / cells["workers"]
    cells["predicted"] = [
        predicted_speedup(schedules[e], durations[g], int(w))
        if durations.get(g) and e in schedules
        else nan
        for g, e, w in keys
    ]
    cells["bound"] = [
        granularity_bound(durations[g], int(w)) if durations.get(g) else nan for g, _, w in keys
    ]
    cells["ideal"] = [ideal_speedup(int(w)) for _, _, w in keys]
    if "total_s" in cells:
        base_total = cells["granularity"].map(reference["total_s"]).astype(float)
        cells["total_speedup"] = base_total / cells["total_s"]
    return cells


def _frame(rows: list[dict[str, Any]] | list[tuple], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


@dataclass(frozen=True, eq=False)
class RaceResult:
    """The measurements of a race and everything derived from them.

    Parameters
    ----------
    timings, tasks, scores : pandas.DataFrame
        The tidy tables described in the module docstring.
    meta : dict
        Workload, machine, settings, and ``complete`` (False if the race was cut short).
    """

    timings: pd.DataFrame
    tasks: pd.DataFrame
    scores: pd.DataFrame
    meta: dict[str, Any]

    @classmethod
    def from_runs(cls, runs: list[Run], meta: dict[str, Any]) -> RaceResult:
        """Build the tables from timed runs."""
        timings, tasks, scores = [], [], []
        for run in runs:
            key = (run.granularity, run.executor, run.workers, run.repeat)
            total = run.startup_s + run.run_s + run.shutdown_s
            timings.append((*key, run.started, run.startup_s, run.run_s, run.shutdown_s, total))
            for index, result in enumerate(run.results):
                models = "+".join(result.scores)
                tasks.append(
                    (
                        *key,
                        index,
                        result.fold,
                        models,
                        result.pid,
                        result.start,
                        result.end,
                        result.duration,
                    )
                )
                scores.extend((*key, result.fold, m, s) for m, s in result.scores.items())
        return cls(
            _frame(timings, TIMING_COLUMNS),
            _frame(tasks, TASK_COLUMNS),
            _frame(scores, SCORE_COLUMNS),
            dict(meta),
        )

    @property
    def executors(self) -> list[str]:
        """Executors in the order they ran."""
        return list(dict.fromkeys(self.timings["executor"]))

    @property
    def granularities(self) -> list[str]:
        """Task granularities in the order they ran."""
        return list(dict.fromkeys(self.timings["granularity"]))

    @property
    def models(self) -> list[str]:
        """Model names in the order they were scored."""
        return list(dict.fromkeys(self.scores["model"]))

    def averages(self) -> pd.DataFrame:
        """Mean held-out score per run and model, over folds sorted by fold id.

        ``numpy.mean`` of the fold-ordered scores, exactly as scikit-learn's
        ``cross_validate(...)["test_score"].mean()`` computes it, so the two agree bit for
        bit. Columns: granularity, executor, workers, repeat, model, score.
        """
        ordered = self.scores.sort_values("fold", kind="stable")
        keys = [*RUN_KEY, "model"]
        rows = [
            (*key, float(np.mean(group["score"].to_numpy())))
            for key, group in ordered.groupby(keys, sort=False)
        ]
        return _frame(rows, (*keys, "score"))

    def check(self) -> ScoreCheck:
        """Compare every run's averaged scores with the reference executor's, bitwise.

        The reference is the first serial run; runs at every granularity must match it.
        """
        averages = self.averages()
        reference_rows = averages[averages["executor"] == REFERENCE]
        if reference_rows.empty:
            raise InputError(f"these results hold no {REFERENCE!r} run to compare with")
        first = reference_rows.iloc[0]
        first = reference_rows[
            (reference_rows["granularity"] == first["granularity"])
            & (reference_rows["repeat"] == first["repeat"])
        ]
        reference = dict(zip(first["model"], first["score"], strict=True))
        expected = averages["model"].map(reference)
        differs = [
            not (isinstance(ref, float) and score.hex() == ref.hex())
            for score, ref in zip(averages["score"], expected, strict=True)
        ]
        mismatches = averages[differs].assign(reference=expected[differs]).reset_index(drop=True)
        return ScoreCheck(not any(differs), reference, mismatches)

    def task_durations(self, granularity: str = "fold") -> list[float]:
        """Median duration of each reference task across repeats, in task order."""
        tasks = self.tasks
        serial = tasks[(tasks["executor"] == REFERENCE) & (tasks["granularity"] == granularity)]
        return serial.groupby("task")["duration_s"].median().tolist()

    def summary(self) -> pd.DataFrame:
        """Per granularity, executor and worker count: time, speedup, prediction, bounds.

        ``speedup`` is the reference's median dispatch + compute time over this cell's, at
        the same granularity; ``speedup_low`` and ``speedup_high`` use the cell's slowest
        and fastest repeat. ``efficiency`` is speedup / workers. From the reference's task
        durations: ``predicted`` is the speedup the executor's own schedule rule allows
        (:mod:`foldrace.schedule`) and ``bound`` the granularity bound (the best of any
        schedule). ``pool_s`` is the median start-up + shutdown, and ``total_speedup`` the
        speedup once they are counted.
        """
        keys = ["granularity", "executor", "workers"]
        timings = self.timings.assign(pool_s=self.timings["startup_s"] + self.timings["shutdown_s"])
        cells = (
            timings.groupby(keys, sort=False)
            .agg(
                median_s=("run_s", "median"),
                low_s=("run_s", "min"),
                high_s=("run_s", "max"),
                total_s=("total_s", "median"),
                pool_s=("pool_s", "median"),
            )
            .reset_index()
        )
        durations = {g: self.task_durations(g) for g in cells["granularity"].unique()}
        cells = speedup_table(cells, durations, self.meta.get("schedules", {}))
        return cells[list(SUMMARY_COLUMNS)]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: kind, meta and the three tables as lists of records."""
        return {
            "kind": RESULTS_KIND,
            "format": 1,
            "meta": self.meta,
            "timings": self.timings.to_dict(orient="records"),
            "tasks": self.tasks.to_dict(orient="records"),
            "scores": self.scores.to_dict(orient="records"),
        }

    @classmethod
    def from_dict(cls, data: Any) -> RaceResult:
        """Rebuild a result from :meth:`to_dict` output.

        Raises
        ------
        InputError
            If ``data`` is not a foldrace results document.
        """
        if not isinstance(data, dict) or data.get("kind") != RESULTS_KIND:
            raise InputError("not a foldrace results file (its 'kind' is not 'foldrace.race')")
        try:
            tables = [
                _frame(data[name], columns)
                for name, columns in (
                    ("timings", TIMING_COLUMNS),
                    ("tasks", TASK_COLUMNS),
                    ("scores", SCORE_COLUMNS),
                )
            ]
            for table, columns in zip(
                tables, (TIMING_COLUMNS, TASK_COLUMNS, SCORE_COLUMNS), strict=True
            ):
                if table[list(columns)].isna().any().any():
                    raise ValueError("missing values")
            meta = dict(data["meta"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"foldrace results file is damaged: {exc}") from None
        return cls(*tables, meta)

    def write(self, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
        """Write ``results.json`` and the tables as CSV into ``out_dir``, each atomically.

        ``out_dir`` is created if needed.

        Returns
        -------
        dict of str to pathlib.Path
            The files written, by table name.
        """
        out = prepare_out_dir(out_dir)
        paths = {name: out / f"{name}.csv" for name in ("summary", "timings", "tasks", "scores")}
        tables = {
            "summary": self.summary(),
            "timings": self.timings,
            "tasks": self.tasks,
            "scores": self.scores,
        }
        for name, path in paths.items():
            atomic_write(path, lambda handle, t=tables[name]: t.to_csv(handle, index=False))
        paths["results"] = out / "results.json"
        atomic_write(paths["results"], lambda handle: json.dump(self.to_dict(), handle, indent=1))
        return paths

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> RaceResult:
        """Read a ``results.json`` written by :meth:`write`.

        Raises
        ------
        InputError
            If the file is missing, is not JSON, or is not foldrace results.
        """
        return cls.from_dict(read_json(path))

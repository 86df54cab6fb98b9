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
from foldrace.files import atomic_write, prepare_out_dir
from foldrace.fold import FoldResult
from foldrace.limits import granularity_bound, ideal_speedup

__all__ = ["RESULTS_KIND", "RaceResult", "Run", "ScoreCheck"]

RESULTS_KIND = "foldrace.race"
"""The ``kind`` field that marks a foldrace results JSON file."""

REFERENCE = "serial"
"""The executor whose times and scores every other executor is compared with."""

TIMING_COLUMNS = ("executor", "workers", "repeat", "startup_s", "run_s", "shutdown_s", "total_s")
TASK_COLUMNS = ("executor", "workers", "repeat", "fold", "pid", "start", "end", "duration_s")
SCORE_COLUMNS = ("executor", "workers", "repeat", "fold", "model", "score")
SUMMARY_COLUMNS = (
    "executor",
    "workers",
    "median_s",
    "speedup",
    "speedup_low",
    "speedup_high",
    "efficiency",
    "bound",
    "ideal",
    "pool_s",
    "total_speedup",
)


@dataclass(frozen=True)
class Run:
    """One timed run of one executor: its three phase times and its task results."""

    executor: str
    workers: int
    repeat: int
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
                f"{row.executor} (workers={row.workers}) on {row.model}"
                for row in self.mismatches.itertuples()
            }
        )
        return "Identical averaged scores across executors: NO, differ: " + "; ".join(parts)


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
            key = (run.executor, run.workers, run.repeat)
            total = run.startup_s + run.run_s + run.shutdown_s
            timings.append((*key, run.startup_s, run.run_s, run.shutdown_s, total))
            for result in run.results:
                tasks.append(
                    (*key, result.fold, result.pid, result.start, result.end, result.duration)
                )
                scores.extend(
                    (*key, result.fold, model, score) for model, score in result.scores.items()
                )
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
    def models(self) -> list[str]:
        """Model names in the order they were scored."""
        return list(dict.fromkeys(self.scores["model"]))

    def averages(self) -> pd.DataFrame:
        """Mean held-out score per run and model, over folds sorted by fold id.

        ``numpy.mean`` of the fold-ordered scores, exactly as scikit-learn's
        ``cross_validate(...)["test_score"].mean()`` computes it, so the two agree bit for
        bit. Columns: executor, workers, repeat, model, score.
        """
        ordered = self.scores.sort_values("fold", kind="stable")
        keys = ["executor", "workers", "repeat", "model"]
        rows = [
            (*key, float(np.mean(group["score"].to_numpy())))
            for key, group in ordered.groupby(keys, sort=False)
        ]
        return _frame(rows, (*keys, "score"))

    def check(self) -> ScoreCheck:
        """Compare every run's averaged scores with the reference executor's, bitwise."""
        averages = self.averages()
        reference_rows = averages[averages["executor"] == REFERENCE]
        if reference_rows.empty:
            raise InputError(f"these results hold no {REFERENCE!r} run to compare with")
        first = reference_rows[reference_rows["repeat"] == reference_rows["repeat"].min()]
        reference = dict(zip(first["model"], first["score"], strict=True))
        expected = averages["model"].map(reference)
        differs = [
            not (isinstance(ref, float) and score.hex() == ref.hex())
            for score, ref in zip(averages["score"], expected, strict=True)
        ]
        mismatches = averages[differs].assign(reference=expected[differs]).reset_index(drop=True)
        return ScoreCheck(not any(differs), reference, mismatches)

    def task_durations(self) -> list[float]:
        """Median duration of each reference task across repeats, in fold order."""
        serial = self.tasks[self.tasks["executor"] == REFERENCE]
        return serial.groupby("fold")["duration_s"].median().tolist()

    def summary(self) -> pd.DataFrame:
        """Per executor and worker count: median time, speedup and its spread, bounds.

        ``speedup`` is the reference's median dispatch + compute time over this cell's;
        ``speedup_low`` and ``speedup_high`` use the cell's slowest and fastest repeat.
        ``efficiency`` is speedup / workers; ``bound`` is the granularity bound of the
        reference's task durations; ``pool_s`` the median start-up + shutdown; and
        ``total_speedup`` the speedup once pool start-up and shutdown are counted.
        """
        grouped = self.timings.groupby(["executor", "workers"], sort=False)
        cells = grouped.agg(
            median_s=("run_s", "median"),
            low_s=("run_s", "min"),
            high_s=("run_s", "max"),
            total_s=("total_s", "median"),
        ).reset_index()
        cells["pool_s"] = grouped.apply(
            lambda g: float((g["startup_s"] + g["shutdown_s"]).median()), include_groups=False
        ).to_numpy()
        reference = cells[cells["executor"] == REFERENCE]
        if reference.empty:
            base = base_total = float("nan")
        else:
            base = float(reference["median_s"].iloc[0])
            base_total = float(reference["total_s"].iloc[0])
        durations = self.task_durations()
        cells["speedup"] = base / cells["median_s"]
        cells["speedup_low"] = base / cells["high_s"]
        cells["speedup_high"] = base / cells["low_s"]
        cells["efficiency"] = cells["speedup"] / cells["workers"]
        cells["bound"] = [
            granularity_bound(durations, int(w)) if durations else float("nan")
            for w in cells["workers"]
        ]
        cells["ideal"] = [ideal_speedup(int(w)) for w in cells["workers"]]
        cells["total_speedup"] = base_total / cells["total_s"]
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
        try:
            data = json.loads(Path(path).read_text())
        except OSError as exc:
            raise InputError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{str(path)!r} is not valid JSON: {exc}") from None
        return cls.from_dict(data)

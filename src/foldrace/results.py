"""A race's measurements as tidy pandas tables, the figures derived from them, and files.

:class:`RaceResult` holds three tables, one row per observation:

- ``timings``: one row per timed run (executor, workers, repeat) with pool start-up,
  dispatch + compute and shutdown seconds apart;
- ``tasks``: one row per task of each run, with the worker pid and start/end times;
- ``scores``: one row per fold and model of each run.

Everything else (averages, the identical-scores check, speedups, bounds) is computed from
them, so a result read back from JSON gives the same figures as the live one.

``results.json`` is strict JSON (a non-finite score is written as ``null`` and read back
as NaN), and every field foldrace uses is checked once, on reading
(:func:`validate_results`). ``foldrace run`` writes each run's files into a folder of its
own (:func:`run_folder_name`); :func:`find_results` turns a file, a run folder or an
output folder (its ``latest`` run) into the file to read.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, SupportsInt, cast

import numpy as np
import pandas as pd

from foldrace.bounds import best_makespan, granularity_bound, ideal_speedup
from foldrace.errors import InputError
from foldrace.files import (
    AtomicFiles,
    atomic_files,
    atomic_write,
    find_latest,
    prepare_out_dir,
    read_json,
    write_json,
)
from foldrace.fold import FoldResult
from foldrace.keys import REFERENCE, RUN_KEY
from foldrace.schedule import SCHEDULES, predicted_speedup
from foldrace.search import rank_candidates
from foldrace.workload import GRANULARITIES

__all__ = [
    "RESULTS_FORMAT",
    "RESULTS_KIND",
    "RaceResult",
    "Run",
    "ScoreCheck",
    "find_results",
    "run_folder_name",
    "speedup_table",
    "validate_results",
]

RESULTS_KIND = "foldrace.race"
"""The ``kind`` field that marks a foldrace results JSON file."""

RESULTS_FORMAT = 1
"""The ``format`` of the results JSON this version writes and reads."""

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
    "run_bound",
    "ideal",
    "pool_s",
    "total_speedup",
    "disturbed",
    "disturbance",
)

SPREAD_LIMIT = 0.25
"""A cell whose repeats' speedups spread over more than this fraction of their median is
marked disturbed: the machine was doing something else meanwhile."""


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
    cells: pd.DataFrame,
    durations: dict[str, list[float]],
    schedules: dict[str, str],
    configs: dict[str, dict[str, Any]] | None = None,
    candidates: dict[str, int] | None = None,
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
    configs : dict of str to dict, optional
        Each executor's configuration (``ExecutorSpec.describe()``): its ``chunksize`` and
        task ``order`` enter the prediction.
    candidates : dict of str to int, optional
        Tasks per fold for each granularity (1 if missing), for the candidate rules.

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
    knobs = {
        name: (config.get("chunksize"), config.get("order") or "given")
        for name, config in (configs or {}).items()
    }
    per_fold = candidates or {}
    cells["predicted"] = [
        predicted_speedup(
            schedules[e], durations[g], int(w), *knobs.get(e, (None, "given")), per_fold.get(g, 1)
        )
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


def disturbance(cell: Any) -> str:
    """Why a summary row's timings cannot be trusted, or ``""``.

    Its speedup exceeds what its worker count or granularity bound allows by more than
    the spread of its repeats (an impossible number: the reference was slowed, or the
    cell sped up, by something else on the machine), or its repeats spread over more than
    :data:`SPREAD_LIMIT` of their median.
    """
    if cell.executor == REFERENCE or not np.isfinite(cell.speedup):
        return ""
    spread = cell.speedup_high - cell.speedup_low
    limit = min(float(cell.workers), cell.bound) if np.isfinite(cell.bound) else cell.workers
    if cell.speedup - limit > spread:
        what = "worker count" if limit == cell.workers else "bound"
        return f"{cell.speedup:.2f}x is above its {what} {limit:.2f}x by more than its spread"
    if spread > SPREAD_LIMIT * cell.speedup:
        return f"repeats spread {cell.speedup_low:.2f}x to {cell.speedup_high:.2f}x"
    return ""


def _frame(
    rows: list[dict[str, Any]] | list[tuple[Any, ...]], columns: tuple[str, ...]
) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


def run_folder_name(when: float | None = None) -> str:
    """``run-YYYYMMDD-HHMMSS`` for the local time ``when`` (``time.time()``; now if omitted)."""
    return "run-" + time.strftime("%Y%m%d-%H%M%S", time.localtime(when))


def find_results(path: str | os.PathLike[str]) -> Path:
    """The ``results.json`` that ``path`` stands for.

    ``path`` may be the file itself, a run folder holding one, or an output folder
    (``foldrace run --out``), which stands for its ``latest`` complete run.

    Raises
    ------
    InputError
        If ``path`` is a folder with no results in it and no ``latest`` run.
    """
    path = Path(path)
    if not path.is_dir():
        return path
    latest = find_latest(path)
    if latest is not None:
        if not (latest / "results.json").is_file():
            raise InputError(
                f"{str(path)!r}: 'latest' points at {latest.name!r}, which holds no results.json"
            )
        return latest / "results.json"
    if (path / "results.json").is_file():
        return path / "results.json"
    runs = sorted(path.glob("run-*/results.json"))
    if runs:
        raise InputError(
            f"{str(path)!r} holds no complete run ('latest' is missing); give a run folder, "
            f"such as {str(runs[-1].parent)!r}"
        )
    raise InputError(f"{str(path)!r} holds no results.json and no 'latest' run")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) and value else "must be a non-empty string"


def _granularity(value: Any) -> str | None:
    if isinstance(value, str) and value in GRANULARITIES:
        return None
    return f"must be one of {', '.join(GRANULARITIES)}"


def _integer(minimum: int | None) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if _is_int(value) and (minimum is None or value >= minimum):
            return None
        return "must be an integer" + ("" if minimum is None else f" of at least {minimum}")

    return check


def _seconds(value: Any) -> str | None:
    if _is_number(value) and math.isfinite(value) and value >= 0:
        return None
    return "must be a finite number of seconds, at least 0"


def _schedule(value: Any) -> str | None:
    if isinstance(value, str) and value in SCHEDULES:
        return None
    return f"must be a known schedule ({', '.join(SCHEDULES)})"


def _clock(value: Any) -> str | None:
    return None if _is_number(value) and math.isfinite(value) else "must be a finite number"


def _score(value: Any) -> str | None:
    return None if value is None or _is_number(value) else "must be a number or null"


_KEY_FIELDS = {
    "granularity": _granularity,
    "executor": _text,
    "workers": _integer(1),
    "repeat": _integer(0),
}
_FIELDS = {
    "timings": {
        **_KEY_FIELDS,
        "started": _clock,
        "startup_s": _seconds,
        "run_s": _seconds,
        "shutdown_s": _seconds,
        "total_s": _seconds,
    },
    "tasks": {
        **_KEY_FIELDS,
        "task": _integer(0),
        "fold": _integer(0),
        "models": _text,
        "pid": _integer(None),
        "start": _clock,
        "end": _clock,
        "duration_s": _seconds,
    },
    "scores": {**_KEY_FIELDS, "fold": _integer(0), "model": _text, "score": _score},
}
"""Each table's fields and their checks: a problem (to follow the field's name) or None."""

MACHINE_FIELDS = ("usable_cpus", "cpu_model", "platform", "python", "scikit-learn")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _meta_problem(meta: Any) -> str | None:
    """What is wrong with the fields of ``meta`` that foldrace reads, or None."""
    if not isinstance(meta, dict):
        return f"'meta' must be an object, got {_shown(meta)}"
    if "complete" in meta and not isinstance(meta["complete"], bool):
        return f"meta.complete must be true or false, got {_shown(meta['complete'])}"
    workers = meta.get("workers", [])
    if not isinstance(workers, list) or not all(_is_int(w) and w >= 1 for w in workers):
        return f"meta.workers must be a list of integers of at least 1, got {_shown(workers)}"
    repeats = meta.get("repeats", 1)
    if not _is_int(repeats) or repeats < 1:
        return f"meta.repeats must be an integer of at least 1, got {_shown(repeats)}"
    schedules = meta.get("schedules", {})
    if not isinstance(schedules, dict):
        return f"meta.schedules must be an object, got {_shown(schedules)}"
    for executor, schedule in schedules.items():
        problem = _schedule(schedule)
        if problem:
            return f"meta.schedules[{executor!r}] {problem}, got {_shown(schedule)}"
    workload = meta.get("workload", {})
    if not isinstance(workload, dict):
        return f"meta.workload must be an object, got {_shown(workload)}"
    machine = meta.get("machine")
    if machine is not None:
        if not isinstance(machine, dict):
            return f"meta.machine must be an object, got {_shown(machine)}"
        missing = [key for key in MACHINE_FIELDS if key not in machine]
        if missing:
            return f"meta.machine has no {missing[0]!r} field"
        if not _is_int(machine["usable_cpus"]) or machine["usable_cpus"] < 1:
            cpus = _shown(machine["usable_cpus"])
            return f"meta.machine.usable_cpus must be an integer of at least 1, got {cpus}"
    return None


def validate_results(data: Any, source: str = "results") -> None:
    """Check that ``data`` is a foldrace results document of a format this version reads.

    Every field that foldrace reads is checked for its type and range (a score may be
    ``null``: a non-finite score is written so); extra fields are allowed.

    Parameters
    ----------
    data : Any
        Parsed JSON.
    source : str
        What to call the file in messages (its quoted path).

    Raises
    ------
    InputError
        One line naming ``source`` and the first wrong field.
    """
    if not isinstance(data, dict) or data.get("kind") != RESULTS_KIND:
        raise InputError(
            f"{source} is not a foldrace results file (its 'kind' is not {RESULTS_KIND!r})"
        )
    if "format" not in data:
        raise InputError(f"{source} is damaged: it has no 'format' field")
    if data["format"] != RESULTS_FORMAT or not _is_int(data["format"]):
        raise InputError(
            f"{source} has format {_shown(data['format'])}, which this version of foldrace "
            f"cannot read (it reads format {RESULTS_FORMAT})"
        )
    for name in ("meta", *_FIELDS):
        if name not in data:
            raise InputError(f"{source} is damaged: it has no {name!r} field")
    problem = _meta_problem(data["meta"])
    if problem:
        raise InputError(f"{source} is damaged: {problem}")
    for name, fields in _FIELDS.items():
        rows = data[name]
        if not isinstance(rows, list):
            raise InputError(f"{source} is damaged: {name!r} must be a list, got {_shown(rows)}")
        for index, row in enumerate(rows):
            problem = _record_problem(row, fields)
            if problem:
                raise InputError(f"{source} is damaged: {name}[{index}]{problem}")


def _record_problem(row: Any, fields: dict[str, Any]) -> str | None:
    """What is wrong with one record, to follow its name (``.run_s must be ...``), or None."""
    if not isinstance(row, dict):
        return f" must be an object, got {_shown(row)}"
    for name, check in fields.items():
        if name not in row:
            return f" has no {name!r} field"
        problem = check(row[name])
        if problem:
            return f".{name} {problem}, got {_shown(row[name])}"
    return None


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
        timings: list[tuple[Any, ...]] = []
        tasks: list[tuple[Any, ...]] = []
        scores: list[tuple[Any, ...]] = []
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
        """Executors in the order they were given (the reference first)."""
        ran = list(dict.fromkeys(self.timings["executor"]))
        given = [name for name in self.meta.get("executors", []) if name in ran]
        return list(dict.fromkeys([*given, *ran]))

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

    @property
    def candidates(self) -> dict[str, dict[str, Any]] | None:
        """For a search, each candidate's parameters by model name; None otherwise."""
        candidates = self.meta.get("workload", {}).get("candidates")
        return dict(candidates) if isinstance(candidates, dict) and candidates else None

    def ranking(self) -> pd.DataFrame:
        """A search's candidates ranked as scikit-learn ranks them, from the reference run.

        Columns: candidate, params, mean_test_score, rank_test_score, selected (see
        :func:`foldrace.search.rank_candidates`); in candidate order.

        Raises
        ------
        InputError
            If these results are not a search's.
        """
        candidates = self.candidates
        if candidates is None:
            raise InputError("these results are not a search's: the workload has no candidates")
        check = self.check()
        ranking = rank_candidates({name: check.reference[name] for name in candidates})
        ranking.insert(1, "params", [candidates[name] for name in ranking["candidate"]])
        return ranking

    def selections(self) -> pd.DataFrame:
        """The candidate each run selects, and whether its ranks are the reference's.

        Columns: granularity, executor, workers, repeat, selected, same_ranks.
        """
        reference = self.ranking()
        names = list(reference["candidate"])
        rows = []
        for key, group in self.averages().groupby(list(RUN_KEY), sort=False):
            means = dict(zip(group["model"], group["score"], strict=True))
            ranked = rank_candidates({name: means[name] for name in names if name in means})
            same = list(ranked["rank_test_score"]) == list(reference["rank_test_score"])
            chosen = ranked.loc[ranked["selected"], "candidate"]
            rows.append((*key, chosen.iloc[0] if len(chosen) else None, same))
        return _frame(rows, (*RUN_KEY, "selected", "same_ranks"))

    def task_durations(self, granularity: str = "fold") -> list[float]:
        """Median duration of each reference task across repeats, in task order."""
        tasks = self.tasks
        serial = tasks[(tasks["executor"] == REFERENCE) & (tasks["granularity"] == granularity)]
        return serial.groupby("task")["duration_s"].median().tolist()

    def summary(self) -> pd.DataFrame:
        """Per granularity, executor and worker count: time, speedup, prediction, bounds.

        Speedups are taken round by round: the reference's dispatch + compute time in a
        round over this cell's in the same round (the ``repeat`` column numbers the
        rounds), so that load that comes and goes between rounds does not bias them.
        ``speedup`` is the median of those ratios, ``speedup_low`` and ``speedup_high``
        the lowest and highest; ``median_s`` is the cell's median time. ``efficiency`` is
        speedup / workers. From the reference's task durations: ``predicted`` is the
        speedup the executor's own schedule rule allows (:mod:`foldrace.schedule`) and
        ``bound`` the granularity bound, the best any schedule of the *serial* task times
        allows, an estimate, since tasks run at another speed side by side. ``run_bound``
        is a true bound, from each run's own task times (median over rounds): no schedule
        of the tasks as they ran could have done better. ``pool_s`` is the median start-up
        + shutdown, and ``total_speedup`` the speedup once they are counted.

        ``disturbed`` marks a cell whose speedup exceeds its worker count or its bound by
        more than the spread of its repeats, or whose repeats spread over more than
        :data:`SPREAD_LIMIT` of their median; ``disturbance`` says which.
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
        configs = self.meta.get("configs", {})
        models = len(self.meta.get("workload", {}).get("models", [])) or 1
        candidates = {"fold": 1, "fold-model": models}
        schedules = self.meta.get("schedules", {})
        cells = speedup_table(cells, durations, schedules, configs, candidates)
        paired = self._paired_ratios().groupby(keys, sort=False)
        ratios = paired.agg(
            speedup=("ratio", "median"),
            speedup_low=("ratio", "min"),
            speedup_high=("ratio", "max"),
            total_speedup=("total_ratio", "median"),
            run_bound=("run_bound", "median"),
        )
        cells = cells.set_index(keys)
        for column in ratios.columns:  # round by round where rounds pair up
            found = ratios[column].reindex(cells.index)
            cells[column] = found.fillna(cells[column]) if column in cells else found
        cells = cells.reset_index()
        order = {name: i for i, name in enumerate(self.executors)}
        rank = {g: i for i, g in enumerate(self.granularities)}
        cells = cells.sort_values(
            ["granularity", "executor", "workers"],
            key=lambda c: (
                c.map(rank)
                if c.name == "granularity"
                else c.map(order)
                if c.name == "executor"
                else c
            ),
            kind="stable",
        ).reset_index(drop=True)
        cells["efficiency"] = cells["speedup"] / cells["workers"]
        cells["disturbance"] = [disturbance(row) for row in cells.itertuples()]
        cells["disturbed"] = cells["disturbance"] != ""
        return cells[list(SUMMARY_COLUMNS)]

    def _paired_ratios(self) -> pd.DataFrame:
        """Per run: the reference's time of the same round over the run's, and its own bound.

        Columns: granularity, executor, workers, repeat, ratio, total_ratio and run_bound
        (the reference's time over the best makespan of this run's own task durations).
        """
        timings = self.timings
        reference = timings[timings["executor"] == REFERENCE].set_index(["granularity", "repeat"])
        where = pd.MultiIndex.from_frame(timings[["granularity", "repeat"]])
        base = reference["run_s"].reindex(where).to_numpy()
        base_total = reference["total_s"].reindex(where).to_numpy()
        makespans = {
            key: best_makespan(group["duration_s"].tolist(), int(cast(SupportsInt, key[2])))
            for key, group in self.tasks.groupby(list(RUN_KEY), sort=False)
            if len(group)
        }
        runs = list(zip(*(timings[c] for c in RUN_KEY), strict=True))
        best = np.array([makespans.get(key, np.nan) for key in runs], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return timings[list(RUN_KEY)].assign(
                ratio=base / timings["run_s"].to_numpy(),
                total_ratio=base_total / timings["total_s"].to_numpy(),
                run_bound=np.minimum(base / best, timings["workers"].to_numpy()),
            )

    def __repr__(self) -> str:
        """One line: the workload, the cells raced, and whether the scores agree."""
        workload = self.meta.get("workload", {}).get("description", "a workload")
        cells = self.timings.groupby(list(RUN_KEY)[:3], sort=False).ngroups
        complete = "" if self.meta.get("complete", True) else ", interrupted"
        verdict = "identical scores" if self.check().identical else "scores DIFFER"
        return (
            f"<RaceResult: {workload}; {len(self.executors)} executors, {cells} cells, "
            f"{verdict}{complete}>"
        )

    def _repr_html_(self) -> str:
        """In a notebook: the summary table and the identical-scores verdict."""
        import html

        columns = ["executor", "workers", "median_s", "speedup", "predicted", "bound"]
        if len(self.granularities) > 1:
            columns.insert(0, "granularity")
        table = self.summary()[columns].round(3).to_html(index=False, border=0)
        workload = html.escape(self.meta.get("workload", {}).get("description", ""))
        verdict = html.escape(self.check().describe())
        return f"<p><b>RaceResult</b>: {workload}</p>{table}<p>{verdict}</p>"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: kind, format, meta and the three tables as lists of records."""
        return {
            "kind": RESULTS_KIND,
            "format": RESULTS_FORMAT,
            "meta": self.meta,
            "timings": self.timings.to_dict(orient="records"),
            "tasks": self.tasks.to_dict(orient="records"),
            "scores": self.scores.to_dict(orient="records"),
        }

    @classmethod
    def from_dict(cls, data: Any, source: str = "the results") -> RaceResult:
        """Rebuild a result from :meth:`to_dict` output, checked by :func:`validate_results`.

        A ``null`` score (how a non-finite score is written) is read back as NaN.

        Raises
        ------
        InputError
            If ``data`` is not a foldrace results document, or a field is missing or wrong.
        """
        validate_results(data, source)
        timings, tasks, scores = (
            _frame(data[name], columns)
            for name, columns in (
                ("timings", TIMING_COLUMNS),
                ("tasks", TASK_COLUMNS),
                ("scores", SCORE_COLUMNS),
            )
        )
        scores["score"] = scores["score"].astype(float)
        return cls(timings, tasks, scores, dict(data["meta"]))

    def write(
        self, out_dir: str | os.PathLike[str], files: AtomicFiles | None = None
    ) -> dict[str, Path]:
        """Write ``results.json`` and the tables as CSV into ``out_dir``, as one set.

        The tables are the summary, the three measured tables and ``accounting``
        (:func:`foldrace.accounting.account`).

        ``out_dir`` is created if needed. The files replace earlier ones together or not
        at all: a failure (a full disk, Ctrl-C) leaves the earlier files as they were and no
        temporary file behind. With ``files``, they join that set instead. The JSON is
        strict: a non-finite number (a NaN score) is written as ``null``.

        Returns
        -------
        dict of str to pathlib.Path
            The files written, by table name.

        Raises
        ------
        foldrace.files.WriteError
            If a file cannot be written; nothing is replaced.
        """
        from foldrace.accounting import account

        out = prepare_out_dir(out_dir)
        tables = {
            "summary": self.summary(),
            "timings": self.timings,
            "tasks": self.tasks,
            "scores": self.scores,
            "accounting": account(self),
        }
        paths = {name: out / f"{name}.csv" for name in tables}
        paths["results"] = out / "results.json"
        with contextlib.nullcontext(files) if files is not None else atomic_files() as group:
            for name, table in tables.items():
                atomic_write(paths[name], functools.partial(table.to_csv, index=False), files=group)
            write_json(paths["results"], self.to_dict(), files=group)
        return paths

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> RaceResult:
        """Read a ``results.json`` written by :meth:`write`.

        ``path`` may also be a run folder or an output folder (see :func:`find_results`).

        Raises
        ------
        InputError
            If the file is missing, is not JSON, or is not foldrace results of a format
            this version reads; one line naming the file and the first wrong field.
        """
        file = find_results(path)
        return cls.from_dict(read_json(file), repr(str(file)))

"""The ``foldrace`` command line: ``run`` a race, ``plot`` saved results, list ``executors``.

Exit codes: 0 success, 1 an executor failed, 2 bad input or output that cannot be written
(a one-line message, no traceback, nothing half-written), 3 the executors' averaged scores
differ, 128 + the signal's number when stopped by a signal: 130 Ctrl-C (SIGINT), 143
SIGTERM, 129 SIGHUP.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import os
import signal
import sys
import time
import urllib.parse
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from enum import IntEnum
from pathlib import Path
from typing import Any, NoReturn, TextIO

from foldrace.errors import InputError, RaceError, RaceInterrupted, one_line
from foldrace.executors import (
    BACKENDS,
    BLOG_STRATEGIES,
    DATA_MODES,
    DEFAULT_START_METHOD,
    check_timeout,
    check_workers,
    executor_labels,
    executor_table,
    threads_left_behind,
)
from foldrace.executors.options import check_count
from foldrace.files import (
    LATEST,
    check_out_dir,
    json_text,
    prepare_out_dir,
    publish_dir,
    set_latest,
)
from foldrace.interrupts import StopSignals, deferred, stop_received
from foldrace.report import aligned, format_bound, format_scores, format_search, format_summary
from foldrace.results import RaceResult, find_results, run_folder_name
from foldrace.schedule import ORDERS
from foldrace.version import __version__
from foldrace.workload import GRANULARITIES, MAX_SEED, Workload, default_models

__all__ = ["ExitCode", "build_parser", "build_workload", "console_main", "main"]

DEFAULT_OUT = "foldrace-results"
WORKLOAD_DEFAULTS = {"samples": 1000, "features": 20, "folds": 3, "seed": 123}
"""Sizes and seed of ``foldrace run``'s workload where the options leave them out."""
DASK_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss")


class ExitCode(IntEnum):
    """Process exit codes of the ``foldrace`` command."""

    OK = 0
    RACE_FAILED = 1
    BAD_INPUT = 2
    SCORES_DIFFER = 3
    HANGUP = 128 + 1
    INTERRUPTED = 128 + 2
    TERMINATED = 128 + 15


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit with code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"workers must be a positive integer or -1 (all CPUs), got {text!r}"
        ) from None
    try:
        return check_workers(value)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(text: str) -> float | None:
    try:
        return check_timeout(float(text))
    except (ValueError, InputError):
        raise argparse.ArgumentTypeError(
            f"must be a positive, finite number of seconds, got {text!r}"
        ) from None


def _count(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value: object = int(text)
        except ValueError:
            value = text
        try:
            return check_count("it", value, minimum, maximum)
        except InputError as exc:  # the same words, quoting what was typed
            expected = str(exc).removeprefix("it ").rsplit(", got ", 1)[0]
            raise argparse.ArgumentTypeError(f"{expected}, got {text!r}") from None

    parse.__name__ = f"integer >= {minimum}"
    return parse


def _scheduler(text: str) -> str:
    """A Dask scheduler address: ``[SCHEME://]HOST:PORT``, checked for its form only."""
    scheme, sep, _ = text.partition("://")
    try:
        parts = urllib.parse.urlsplit(text if sep else f"tcp://{text}")
        well_formed = bool(
            (not sep or scheme in DASK_SCHEMES)
            and parts.hostname
            and parts.port
            and not (parts.path or parts.query or parts.fragment or parts.username)
        )
    except ValueError:  # a port that is not a number from 0 to 65535, a broken IPv6 address
        well_formed = False
    if not well_formed:
        raise argparse.ArgumentTypeError(
            f"must be a Dask scheduler address such as tcp://HOST:PORT (schemes: "
            f"{', '.join(DASK_SCHEMES)}), got {text!r}"
        )
    return text


def build_parser() -> argparse.ArgumentParser:
    """The ``foldrace`` argument parser; executor choices come from the registry."""
    parser = _Parser(
        prog="foldrace",
        description="Race cross-validation folds through parallel executors: run a race, "
        "plot saved results or pytest-benchmark JSON, draw worker timelines, measure "
        "dispatch cost, list the executors.",
        epilog="Exit codes: 0 success, 1 an executor failed, 2 bad input, 3 the executors' "
        "averaged scores differ, 128 + the signal's number when stopped (130 Ctrl-C, 143 "
        "SIGTERM, 129 SIGHUP). 'foldrace COMMAND --help' describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"foldrace {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="race executors on a workload and plot the speedup")
    run.add_argument(
        "--executors",
        nargs="+",
        metavar="NAME",
        help="executors to race: registry names, optionally with options as in map/thread "
        "or starmap/spawn/shared, or 'all' for every strategy on every local backend (default: "
        f"{' '.join(BLOG_STRATEGIES)}; list them with 'foldrace executors')",
    )
    run.add_argument(
        "--backends",
        nargs="+",
        choices=tuple(BACKENDS),
        help="kinds of worker to race, for executors that name none (default: process)",
    )
    run.add_argument(
        "--chunksize",
        nargs="+",
        type=_count(1),
        metavar="N",
        help="tasks per chunk for the strategies that send chunks (map, starmap, "
        "imap_unordered, futures_map on processes; joblib's batch_size); several race each "
        "(default: each strategy's own)",
    )
    run.add_argument(
        "--pre-dispatch",
        nargs="+",
        metavar="EXPR",
        help="joblib's batches queued ahead: all, a number, or K*n_jobs; several race each "
        "(default: 2*n_jobs)",
    )
    run.add_argument(
        "--order",
        nargs="+",
        choices=ORDERS,
        help="the order tasks are submitted in: as given, the longest first (by the serial "
        "run's task times), or shuffled; several race each (default: given)",
    )
    run.add_argument(
        "--data-passing",
        nargs="+",
        choices=DATA_MODES,
        help="how process workers get X, y and the models: with every task, once per worker "
        "(pool initializer), or through shared memory (default: task)",
    )
    run.add_argument(
        "--workers",
        nargs="+",
        type=_workers,
        metavar="N",
        help="worker counts; -1 for every usable CPU, as n_jobs (default: 1 up to the usable CPUs)",
    )
    run.add_argument(
        "--repeats", type=_count(1), default=3, help="timed runs per cell (default: 3)"
    )
    defaults = WORKLOAD_DEFAULTS
    run.add_argument(
        "--samples",
        type=_count(4),
        help=f"samples of the generated data (default: {defaults['samples']})",
    )
    run.add_argument(
        "--features",
        type=_count(2),
        help=f"features of the generated data (default: {defaults['features']})",
    )
    run.add_argument(
        "--folds", type=_count(2), help=f"cross-validation folds (default: {defaults['folds']})"
    )
    run.add_argument(
        "--seed",
        type=_count(0, MAX_SEED),
        help=f"data and fold seed (default: {defaults['seed']})",
    )
    run.add_argument(
        "--granularity",
        nargs="+",
        choices=GRANULARITIES,
        help="tasks per fold (the blog's choice), per fold and model, or both side by side "
        "(default: fold; fold-model for a --search, one task per candidate and fold as "
        "scikit-learn's searches run them)",
    )
    run.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME=module:Class(k=v)",
        help="an estimator to race instead of logit + rf (repeatable), e.g. "
        "tree=sklearn.tree:DecisionTreeClassifier(random_state=0)",
    )
    run.add_argument(
        "--search",
        metavar="NAME=module:Class(k=v)",
        help="race a hyperparameter search over this estimator instead of --model's: one "
        "candidate per setting of the --param values, e.g. "
        "rf=sklearn.ensemble:RandomForestClassifier(random_state=0)",
    )
    run.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=V1,V2,...",
        help="a searched parameter and its values (repeatable): a list such as "
        "n_estimators=10,50,100, or a scipy.stats distribution such as C=loguniform(0.001,1) "
        "for a randomized search",
    )
    run.add_argument(
        "--n-iter",
        type=_count(1),
        metavar="N",
        help="a randomized search of N candidates drawn from the --param values "
        "(default: the whole grid)",
    )
    run.add_argument(
        "--search-seed",
        type=_count(0, MAX_SEED),
        default=0,
        metavar="SEED",
        help="seed of a randomized search's draws (default: 0)",
    )
    run.add_argument(
        "--data",
        type=Path,
        metavar="FILE.csv",
        help="race on your own table instead of generated data (needs --target)",
    )
    run.add_argument("--target", metavar="COLUMN", help="the binary target column of --data")
    run.add_argument(
        "--groups",
        metavar="COLUMN",
        help="a group column of --data: the folds keep each group whole (StratifiedGroupKFold)",
    )
    run.add_argument(
        "--workload",
        metavar="module:function",
        help="a function of yours returning a foldrace.Workload (own splitter, scorer, "
        "everything); it runs your code; cannot be combined with --data, --model, --target, "
        "--samples, --features, --folds or --seed",
    )
    run.add_argument(
        "--out",
        default=DEFAULT_OUT,
        type=Path,
        help="directory for the runs: each run writes its results and figures into a new "
        "folder run-YYYYMMDD-HHMMSS/ in it, and 'latest' points at the last complete one "
        f"(default: {DEFAULT_OUT}/)",
    )
    run.add_argument(
        "--start-method",
        nargs="+",
        choices=multiprocessing.get_all_start_methods(),
        help=f"how process pools start their workers; several race each (default: "
        f"{DEFAULT_START_METHOD}, this platform's own default, set explicitly and recorded)",
    )
    run.add_argument(
        "--scheduler",
        type=_scheduler,
        metavar="tcp://HOST:PORT",
        help="run dask executors on this Dask scheduler's cluster, left running (default: a "
        "local cluster on 127.0.0.1, started and stopped for the race)",
    )
    run.add_argument(
        "--ray-address",
        metavar="HOST:PORT",
        help="run ray executors on this Ray cluster, left running (default: a local Ray "
        "instance, started and stopped for the race)",
    )
    run.add_argument(
        "--blas-threads",
        type=_count(1),
        default=1,
        metavar="N",
        help="inner BLAS/OpenMP threads per worker and in the serial run (default: 1, so "
        "workers never oversubscribe the cores)",
    )
    run.add_argument(
        "--no-blas-limit",
        action="store_true",
        help="leave BLAS/OpenMP thread pools at the libraries' own defaults",
    )
    run.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="fail an executor whose run takes longer (a last line of defence: task errors "
        "and dead workers are caught without it)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    run.add_argument(
        "--json",
        action="store_true",
        help="print the summary as JSON (one object: the check, the cells, the files) instead "
        "of the tables",
    )
    run.add_argument(
        "--progress",
        action="store_true",
        help="show the progress bar even where standard error is not a terminal (a log file)",
    )
    run.add_argument("--no-plot", action="store_true", help="skip the figures")
    run.add_argument(
        "--timeline",
        action="store_true",
        help="also draw each executor's worker timeline (timeline.png, timeline.svg; with "
        "several granularities one per granularity, timeline-fold.png, ...)",
    )

    plot = commands.add_parser(
        "plot", help="draw speedup curves from a results.json or from pytest-benchmark JSON"
    )
    plot.add_argument(
        "results",
        type=Path,
        nargs="?",
        help="a results.json written by 'foldrace run', its run folder, or the --out folder "
        "(its latest complete run)",
    )
    plot.add_argument(
        "--benchmark-json",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="pytest-benchmark JSON from 'pytest benchmarks --benchmark-json FILE'; "
        "two or more files are drawn side by side",
    )
    plot.add_argument(
        "--out",
        type=Path,
        help="directory for the figure (default: beside the (first) JSON, created only when "
        "there is a figure to write)",
    )

    timeline = commands.add_parser(
        "timeline", help="draw each executor's worker timeline from a results.json"
    )
    timeline.add_argument(
        "results",
        type=Path,
        help="a results.json written by 'foldrace run', its run folder, or the --out folder "
        "(its latest complete run)",
    )
    timeline.add_argument("--workers", type=_workers, help="worker count to show (default: most)")
    timeline.add_argument(
        "--granularity",
        nargs="+",
        choices=GRANULARITIES,
        help="the task granularities to draw, one figure each (default: every one raced)",
    )
    timeline.add_argument(
        "--out", type=Path, help="directory for the figure (default: beside the JSON)"
    )

    whatif = commands.add_parser(
        "whatif",
        help="predict each executor's speedup at more workers from a results.json (the "
        "schedule model fed with the measured task times and costs per task)",
    )
    whatif.add_argument(
        "results",
        type=Path,
        help="a results.json written by 'foldrace run', its run folder, or the --out folder "
        "(its latest complete run)",
    )
    whatif.add_argument(
        "--workers",
        type=_workers,
        nargs="+",
        help="worker counts to predict at (default: 1 to 64)",
    )
    whatif.add_argument(
        "--cpus",
        type=_workers,
        help="CPUs the workers share, to compare with a run that had more workers than CPUs "
        "(default: a CPU per worker)",
    )
    whatif.add_argument(
        "--out",
        type=Path,
        help="directory for whatif.csv and the figure (default: beside the JSON)",
    )

    dispatch = commands.add_parser(
        "dispatch", help="measure per-task dispatch cost and pool start-up, draw bar charts"
    )
    dispatch.add_argument("--tasks", type=_count(1), default=2000, help="trivial tasks per run")
    dispatch.add_argument(
        "--executors",
        nargs="+",
        metavar="NAME",
        help="executor labels to time (default: every strategy on every local backend)",
    )
    dispatch.add_argument("--workers", type=_workers, default=2, help="workers (default: 2)")
    dispatch.add_argument("--repeats", type=_count(1), default=5, help="timed runs (default: 5)")
    dispatch.add_argument(
        "--progress",
        action="store_true",
        help="show the progress bar even where standard error is not a terminal",
    )
    dispatch.add_argument(
        "--out", default=DEFAULT_OUT, type=Path, help=f"directory (default: {DEFAULT_OUT}/)"
    )

    executors = commands.add_parser("executors", help="list the executors foldrace can race")
    executors.add_argument("--json", action="store_true", help="print the list as JSON")
    return parser


def build_workload(args: argparse.Namespace) -> Workload:
    """The workload that ``foldrace run``'s options describe.

    Raises
    ------
    InputError
        If the options contradict each other or describe a workload that cannot be raced.
    """
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    from foldrace.loaders import load_csv, parse_models
    from foldrace.workload import default_workload

    def given(*names: str) -> list[str]:
        return [f"--{name}" for name in names if getattr(args, name, None) is not None]

    def value(name: str) -> int:
        chosen = getattr(args, name, None)
        return WORKLOAD_DEFAULTS[name] if chosen is None else chosen

    if args.workload:
        if args.data or args.model:
            raise InputError("--workload cannot be combined with --data or --model")
        ignored = given("samples", "features", "folds", "seed", "target", "groups")
        if ignored:
            raise InputError(
                f"--workload makes its own data, folds and models, so {', '.join(ignored)} "
                f"would be ignored; leave {'it' if len(ignored) == 1 else 'them'} out"
            )
        return _call_workload(args.workload)
    if args.search or args.param or args.n_iter:
        return _search_workload(args)
    models = parse_models(args.model)
    samples, features, folds, seed = map(value, ("samples", "features", "folds", "seed"))
    if args.data is None:
        if args.target or args.groups:
            raise InputError(f"{'--target' if args.target else '--groups'} needs --data")
        workload = default_workload(samples, features, folds, seed)
        if not models:
            return workload
        described = workload.description.replace("logit + rf", " + ".join(models))
        return replace(workload, models=models, description=described)
    if not args.target:
        raise InputError("--data needs --target COLUMN")
    ignored = given("samples", "features")
    if ignored:
        raise InputError(
            f"--data brings its own samples and features, so {', '.join(ignored)} would be "
            f"ignored; leave {'it' if len(ignored) == 1 else 'them'} out"
        )
    X, y, groups = load_csv(args.data, args.target, args.groups)
    kind = StratifiedKFold if groups is None else StratifiedGroupKFold
    splitter = kind(n_splits=folds, shuffle=True, random_state=seed)
    models = models or default_models()
    by = "" if groups is None else f" by {args.groups}"
    described = (
        f"{args.data.name} ({len(X)} x {X.shape[1]}), {folds} stratified folds{by} "
        f"(seed {seed}), {' + '.join(models)}"
    )
    return Workload(
        X, y, models, folds=splitter, name=args.data.stem, description=described, groups=groups
    )


def _search_workload(args: argparse.Namespace) -> Workload:
    """The workload of ``--search`` with its ``--param`` values, on the data options give."""
    from foldrace.loaders import parse_model, parse_params
    from foldrace.search import search_workload

    if not args.search or not args.param:
        raise InputError("a search needs --search NAME=module:Class(...) and at least one --param")
    if args.model or args.workload:
        raise InputError("--search races its own candidates; leave out --model and --workload")
    name, estimator = parse_model(args.search, "--search")
    space = parse_params(args.param)
    base = build_workload(
        argparse.Namespace(**{**vars(args), "search": None, "param": [], "n_iter": None})
    )
    options: dict[str, Any] = {"X": base.X, "y": base.y, "folds": base.folds, "name": name}
    drawn = args.n_iter is not None or any(not isinstance(v, list) for v in space.values())
    if drawn:
        n_iter = 10 if args.n_iter is None else args.n_iter
        return search_workload(
            estimator,
            param_distributions=space,
            n_iter=n_iter,
            random_state=args.search_seed,
            **options,
        )
    return search_workload(estimator, space, **options)


def _call_workload(spec: str) -> Workload:
    """Call the ``module:function`` that ``--workload`` names; it must return a Workload."""
    from foldrace.loaders import load_object

    factory = load_object(spec)
    if not callable(factory):
        raise InputError(
            f"--workload {spec!r} is not a function; name one that returns a foldrace.Workload"
        )
    try:
        workload = factory()
    except (InputError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # SystemExit too: the function must give a workload
        raise InputError(f"--workload {spec!r} raised {one_line(exc)}") from None
    if not isinstance(workload, Workload):
        raise InputError(
            f"--workload {spec!r} did not give a foldrace.Workload (it returned a "
            f"{type(workload).__name__}); return one from the function"
        )
    return workload


def _run(args: argparse.Namespace) -> int:
    from foldrace.harness import race

    started = time.perf_counter()
    began = time.time()
    out = check_out_dir(args.out)  # created only once there is something to save
    workload = build_workload(args)
    try:
        result = race(
            workload,
            _labels(args.executors),
            args.workers,
            args.repeats,
            granularity=args.granularity,
            timeout=args.timeout,
            start_method=args.start_method,
            backends=args.backends,
            chunksize=args.chunksize,
            pre_dispatch=args.pre_dispatch,
            order=args.order,
            data_passing=args.data_passing,
            dask_scheduler=args.scheduler,
            ray_address=args.ray_address,
            blas_threads=None if args.no_blas_limit else args.blas_threads,
            progress=False if args.quiet else (True if args.progress else None),
        )
    except RaceInterrupted as stop:
        folder, _ = _save_run(stop.result, out, began, figures=False, timeline=False)
        runs = len(stop.result.timings)
        print(
            f"foldrace run: {_stopped_by()}; the {runs} timed runs measured so far are saved in "
            f"{folder}/, marked incomplete ({out / LATEST} still points at the last complete "
            "run)",
            file=sys.stderr,
        )
        return ExitCode.INTERRUPTED
    folder, paths = _save_run(result, out, began, figures=not args.no_plot, timeline=args.timeline)
    check = result.check()
    if args.json:
        summary = {
            "identical": check.identical,
            "workload": workload.description,
            "cells": result.summary().to_dict(orient="records"),
            "folder": str(folder),
            "files": [str(p) for p in paths],
        }
        print(json_text(summary))
    elif args.quiet:
        print(check.describe())
    else:
        print(f"Workload: {workload.description}")
        scores = (
            f"{format_search(result)}\n{check.describe()}"
            if result.candidates
            else format_scores(result)
        )
        print(format_summary(result), format_bound(result), "", scores, sep="\n")
        print(f"\nWrote {', '.join(str(p) for p in paths)}")
        print(f"{out / LATEST} -> {folder.name}")
        print(f"Finished in {time.perf_counter() - started:.1f} s.")
    return ExitCode.OK if check.identical else ExitCode.SCORES_DIFFER


def _save_run(
    result: RaceResult, out: Path, began: float, *, figures: bool, timeline: bool
) -> tuple[Path, list[Path]]:
    """Write a run's files into a new folder ``out/run-...``; point ``latest`` at it.

    The folder appears only once every file is in it; ``latest`` moves only to a
    complete run.
    """
    names: list[str] = []

    def write(folder: Path) -> None:
        paths = list(result.write(folder).values())
        if figures:
            from foldrace.plots import plot_accounting, plot_speedup, plot_timeline, save_figure

            paths += save_figure(plot_speedup(result), folder / "speedup")
            paths += save_figure(plot_accounting(result), folder / "accounting")
            if timeline:
                for stem, granularity in timeline_names(result.granularities).items():
                    fig = plot_timeline(result, granularity=granularity)
                    paths += save_figure(fig, folder / stem)
        names.extend(path.name for path in paths)

    with deferred():  # a stop signal waits until the run's files are all written
        folder = publish_dir(prepare_out_dir(out), run_folder_name(began), write)
        if result.meta.get("complete", True):
            set_latest(out, folder.name)
    return folder, [folder / name for name in names]


def _stopped_by() -> str:
    """How the race was stopped, for the message that says what was saved."""
    signum = stop_received()
    if signum is None or signum == signal.SIGINT:
        return "interrupted"
    return f"stopped by {signal.Signals(signum).name}"


def _read_runs(path: Path, purpose: str) -> tuple[Path, RaceResult]:
    """The results file ``path`` stands for, and its result, which must hold timed runs."""
    file = find_results(path)
    result = RaceResult.read(file)
    if result.timings.empty:
        raise InputError(
            f"no timed runs to {purpose} in {str(file)!r} (the run was interrupted before "
            "any finished)"
        )
    return file, result


def _plot(args: argparse.Namespace) -> int:
    from foldrace.files import atomic_files
    from foldrace.plots import plot_accounting, plot_speedup, save_figure

    if (args.results is None) == (args.benchmark_json is None):
        raise InputError("give one of: a results.json, or --benchmark-json FILE ...")
    if args.benchmark_json:
        return _plot_benchmarks(args)
    file, result = _read_runs(args.results, "plot")
    figures = {"speedup": plot_speedup(result), "accounting": plot_accounting(result)}
    out = prepare_out_dir(args.out if args.out is not None else file.parent)
    with atomic_files() as files:  # both figures replace the earlier ones, or neither does
        written = [
            path for stem, fig in figures.items() for path in save_figure(fig, out / stem, files)
        ]
    for path in written:
        print(f"Wrote {path}")
    return ExitCode.OK


def _plot_benchmarks(args: argparse.Namespace) -> int:
    from foldrace.benchjson import benchmark_figure, benchmark_summary, read_benchmark_json
    from foldrace.dispatch import dispatch_figure
    from foldrace.files import atomic_files
    from foldrace.plots import save_figure

    runs = [read_benchmark_json(path) for path in args.benchmark_json]
    figures = []
    for run in runs:
        if not run.races.empty:
            table = benchmark_summary(run)
            shown = table[["workload", "granularity", "executor", "workers", "median_s"]].assign(
                speedup=table["speedup"].map("{:.2f}×".format),
                predicted=table["predicted"].map("{:.2f}×".format),
                bound=table["bound"].map("{:.2f}×".format),
                median_s=table["median_s"].map("{:.3f}".format),
            )
            print(f"{run.label}:\n{aligned(shown.rename(columns={'median_s': 'median s'}))}\n")
    if any(not run.races.empty for run in runs):
        racing = [run for run in runs if not run.races.empty]
        figures.append((benchmark_figure(racing), "benchmark-speedup"))
    for run in runs:
        if not run.dispatch.empty and not run.startup.empty:
            dispatch = run.dispatch.assign(
                us_per_task=run.dispatch["median_s"] / run.dispatch["n_tasks"] * 1e6
            )
            fig = dispatch_figure(dispatch, run.startup, caption=run.label)
            figures.append((fig, f"benchmark-dispatch-{Path(run.label).stem}"))
    out = prepare_out_dir(args.out if args.out is not None else args.benchmark_json[0].parent)
    paths = []
    with atomic_files() as files:
        for fig, stem in figures:
            paths += save_figure(fig, out / stem, files)
    for path in paths:
        print(f"Wrote {path}")
    return ExitCode.OK


def timeline_names(granularities: Sequence[str]) -> dict[str, str]:
    """The file stem for each granularity's timeline: ``timeline`` for a single one,
    ``timeline-fold``, ``timeline-fold-model``, ... for several."""
    chosen = list(dict.fromkeys(granularities))
    if len(chosen) == 1:
        return {"timeline": chosen[0]}
    return {f"timeline-{granularity}": granularity for granularity in chosen}


def _timeline(args: argparse.Namespace) -> int:
    from foldrace.files import atomic_files
    from foldrace.plots import plot_timeline, save_figure

    file, result = _read_runs(args.results, "draw")
    wanted = args.granularity or result.granularities
    missing = [g for g in wanted if g not in result.granularities]
    if missing:
        raise InputError(
            f"these results hold no run per {', '.join(missing)} (raced: "
            f"{', '.join(result.granularities)})"
        )
    figures = {
        stem: plot_timeline(result, workers=args.workers, granularity=granularity)
        for stem, granularity in timeline_names(wanted).items()
    }
    out = prepare_out_dir(args.out if args.out is not None else file.parent)
    with atomic_files() as files:  # every timeline replaces the earlier ones, or none does
        written = [
            path for stem, fig in figures.items() for path in save_figure(fig, out / stem, files)
        ]
    for path in written:
        print(f"Wrote {path}")
    return ExitCode.OK


def _whatif(args: argparse.Namespace) -> int:
    from foldrace.files import atomic_files, atomic_write
    from foldrace.plots import save_figure
    from foldrace.whatif import WHATIF_WORKERS, plot_whatif, predicted_curves

    file, result = _read_runs(args.results, "predict from")
    workers = args.workers or WHATIF_WORKERS
    curves = predicted_curves(result, workers, args.cpus)
    if curves.empty:
        raise InputError(
            f"nothing to predict from {str(file)!r}: the what-if needs serial and each "
            "executor measured at 1 worker"
        )
    shown = curves.assign(
        predicted=curves["predicted"].map("{:.2f}×".format),
        measured=curves["measured"].map(lambda v: "" if v != v else f"{v:.2f}×"),
        bound=curves["bound"].map("{:.2f}×".format),
        cost=(curves["cost_per_task_s"] * 1000).map("{:.1f}".format),
    )[["granularity", "executor", "workers", "cost", "predicted", "measured", "bound"]]
    where = f"{args.cpus} CPUs shared" if args.cpus else "a CPU per worker"
    print(f"Predicted speedup ({where}); cost: ms per task over serial, measured at 1 worker")
    print(aligned(shown))
    out = prepare_out_dir(args.out if args.out is not None else file.parent)
    with atomic_files() as files:
        paths = [out / "whatif.csv"]
        atomic_write(paths[0], functools.partial(curves.to_csv, index=False), files=files)
        paths += save_figure(
            plot_whatif(result, workers, args.cpus, curves=curves), out / "whatif", files
        )
    print(f"\nWrote {', '.join(map(str, paths))}")
    return ExitCode.OK


def _dispatch(args: argparse.Namespace) -> int:
    from foldrace.dispatch import dispatch_cost, dispatch_figure, startup_cost, variants
    from foldrace.files import atomic_files, atomic_write
    from foldrace.machine import describe_machine, machine_caption
    from foldrace.plots import save_figure

    check_out_dir(args.out)
    started = time.perf_counter()
    labels = _labels(args.executors)
    chosen = variants(labels)
    runs = len(chosen) * (args.repeats + 1)
    print(
        f"Timing {runs} runs of {args.tasks} trivial tasks ({len(chosen)} executor "
        f"variants, a warm-up and {args.repeats} timed runs each), then pool start-up per "
        "start method" + (": about a minute on 2 CPUs." if labels is None else "."),
        flush=True,
    )
    progress = None if not args.progress else True
    dispatch = dispatch_cost(
        labels, n_tasks=args.tasks, workers=args.workers, repeats=args.repeats, progress=progress
    )
    startup = startup_cost(workers=args.workers, repeats=args.repeats, progress=progress)
    per_task = dispatch.groupby(["executor", "variant"], sort=False)["us_per_task"].median()
    print(f"Dispatch cost of {args.tasks} trivial tasks, median of {args.repeats} runs:")
    print(aligned(per_task.map("{:.1f}".format).rename("µs per task").reset_index()))
    per_method = startup.groupby("method", sort=False)[["start_s", "stop_s"]].median() * 1000
    print(f"\nPool start (until the first result) and stop with {args.workers} workers, ms:")
    per_method.columns = ["start ms", "stop ms"]
    print(aligned(per_method.map("{:.0f}".format).reset_index()))
    caption = f"Machine: {machine_caption(describe_machine())}."
    fig = dispatch_figure(dispatch, startup, caption=caption)
    out = prepare_out_dir(args.out)
    paths = [out / "dispatch.csv", out / "startup.csv"]
    with atomic_files() as files:
        for path, table in zip(paths, (dispatch, startup), strict=True):
            atomic_write(path, functools.partial(table.to_csv, index=False), files=files)
        paths += save_figure(fig, out / "dispatch", files)
    print(f"\nWrote {', '.join(map(str, paths))}")
    print(f"Finished in {time.perf_counter() - started:.1f} s.")
    return ExitCode.OK


def _labels(names: Sequence[str] | None) -> list[str] | None:
    """The ``--executors`` values, with ``all`` standing for every standard configuration."""
    return None if names is None else executor_labels(names)


def _executors(args: argparse.Namespace) -> int:
    if args.json:
        print(json_text(executor_table().to_dict(orient="records")))
        return ExitCode.OK
    table = executor_table().drop(columns=["start methods", "schedule"])
    rows = [list(table.columns), *table.astype(str).values.tolist()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print(
        "\nOptions follow a name after '/': a backend (thread), a start method (spawn, "
        "forkserver) or a data passing mode (worker, shared), e.g. starmap/spawn/shared."
    )
    return ExitCode.OK


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    print(f"foldrace: warning: {message}", file=sys.stderr if file is None else file)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``foldrace`` command line; return its exit code.

    Ctrl-C, SIGTERM and SIGHUP all stop a race the same way (its pools stopped, the runs
    measured so far saved); the exit code says which signal it was.
    """
    args = build_parser().parse_args(argv)
    commands = {
        "run": _run,
        "plot": _plot,
        "timeline": _timeline,
        "whatif": _whatif,
        "dispatch": _dispatch,
        "executors": _executors,
    }
    with warnings.catch_warnings(), StopSignals(final=True) as stop:
        warnings.showwarning = _one_line_warning
        try:
            code = _checked(commands[args.command], args)
        except KeyboardInterrupt:  # a later signal is ignored: this line is not cut short
            print(f"foldrace {args.command}: interrupted", file=sys.stderr)
            code = ExitCode.INTERRUPTED
    if code == ExitCode.INTERRUPTED and stop.received is not None:
        return stop.exit_code
    return code


def _checked(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run one command, turning foldrace's errors into their one-line messages and codes."""
    try:
        return int(command(args))
    except InputError as exc:
        print(f"foldrace {args.command}: error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except RaceError as exc:
        print(f"foldrace {args.command}: error: {exc}", file=sys.stderr)
        return ExitCode.RACE_FAILED


def console_main() -> NoReturn:
    """The ``foldrace`` program: :func:`main`, then exit with its code, whatever still runs.

    A worker thread stuck in a task past its run's deadline cannot be stopped; the program
    says so and exits without waiting for it.
    """
    code = main()
    left = threads_left_behind()
    if left:
        print(
            f"foldrace: {len(left)} worker thread{'s' * (len(left) > 1)} still running a task "
            "(threads cannot be stopped); exiting without them",
            file=sys.stderr,
        )
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)

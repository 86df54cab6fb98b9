"""Turn command-line text into Python objects: estimators, data files and workloads.

``--model NAME=module:Class(key=value, ...)`` builds an estimator (keyword values are
Python literals); ``--data FILE.csv --target COLUMN`` reads a table; ``--workload
module:function`` calls a function of yours that returns a :class:`~foldrace.workload.Workload`.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from foldrace.errors import InputError, one_line

__all__ = [
    "is_estimator_class",
    "load_csv",
    "load_object",
    "parse_model",
    "parse_models",
    "parse_param",
    "parse_params",
]

_ESTIMATOR_METHODS = ("fit", "get_params", "set_params")


def load_object(spec: str) -> Any:
    """Import ``module:attribute``; the current directory is searched last.

    Importing a module runs its code. The current directory comes after the installed
    packages on ``sys.path``, so a stray ``matplotlib.py`` there cannot shadow them.

    Raises
    ------
    InputError
        If ``spec`` is malformed, the module cannot be imported (or raises while it is
        imported), or it has no such attribute.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise InputError(f"{spec!r} is not of the form module:name")
    if "" not in sys.path:
        sys.path.append("")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"cannot import module {module_name!r}: {exc}") from None
    except (Exception, SystemExit) as exc:
        raise InputError(
            f"cannot import module {module_name!r}, it raised {one_line(exc)}"
        ) from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise InputError(f"module {module_name!r} has no attribute {attribute!r}") from None


def is_estimator_class(obj: Any) -> bool:
    """Whether ``obj`` is a scikit-learn estimator class (or one shaped like it)."""
    from sklearn.base import BaseEstimator

    if not inspect.isclass(obj):
        return False
    if issubclass(obj, BaseEstimator):
        return True
    return all(callable(getattr(obj, method, None)) for method in _ESTIMATOR_METHODS)


def parse_model(text: str, option: str = "--model") -> tuple[str, Any]:
    """Parse ``NAME=module:Class(key=value, ...)`` into ``(name, estimator)``.

    Only a scikit-learn estimator class is instantiated (a ``BaseEstimator`` subclass, or
    a class with ``fit``, ``get_params`` and ``set_params``), and only with keyword
    arguments whose values are Python literals.

    Examples
    --------
    >>> parse_model("tree=sklearn.tree:DecisionTreeClassifier(max_depth=3, random_state=0)")
    ('tree', DecisionTreeClassifier(max_depth=3, random_state=0))

    Raises
    ------
    InputError
        If the text is malformed, names anything but an estimator class, or the class
        refuses the arguments.
    """
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or not name or not spec.strip():
        raise InputError(f"{option} {text!r}: expected NAME=module:Class(key=value, ...)")
    target, paren, arguments = spec.partition("(")
    target = target.strip()
    kwargs = _keyword_arguments(text, arguments, option) if paren else {}
    cls = load_object(target)
    if not is_estimator_class(cls):
        raise InputError(
            f"{option} {text!r}: {target} is not a scikit-learn estimator class; "
            "name a class such as sklearn.tree:DecisionTreeClassifier"
        )
    try:
        return name, cls(**kwargs)
    except Exception as exc:
        raise InputError(f"{option} {text!r}: {one_line(exc)}") from None


def _keyword_arguments(text: str, arguments: str, option: str) -> dict[str, Any]:
    """The ``key=literal`` pairs of ``arguments`` (the text after the opening parenthesis)."""
    try:
        call = ast.parse(f"f({arguments}", mode="eval").body
    except SyntaxError as exc:
        raise InputError(f"{option} {text!r}: bad arguments ({exc.msg})") from None
    except (RecursionError, MemoryError):
        raise InputError(f"{option} {text!r}: the arguments are nested too deeply") from None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
        raise InputError(
            f"{option} {text!r}: nothing may follow the closing parenthesis of the arguments"
        )
    if call.args or any(keyword.arg is None for keyword in call.keywords):
        raise InputError(f"{option} {text!r}: only key=value arguments are accepted")
    kwargs: dict[str, Any] = {}
    for keyword in call.keywords:
        assert keyword.arg is not None  # ``**mapping`` arguments are refused above
        if keyword.arg in kwargs:
            raise InputError(f"{option} {text!r}: {keyword.arg!r} is given twice; give it once")
        try:
            kwargs[keyword.arg] = ast.literal_eval(keyword.value)
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            raise InputError(
                f"{option} {text!r}: the value of {keyword.arg!r} is not a Python literal "
                "(a number, string, bool, None, or a tuple, list or dict of them)"
            ) from None
    return kwargs


def parse_models(texts: Iterable[str]) -> dict[str, Any]:
    """Parse several ``--model`` values into a name-to-estimator mapping.

    Raises
    ------
    InputError
        If a value is malformed (see :func:`parse_model`) or a name is given twice.
    """
    models: dict[str, Any] = {}
    for text in texts:
        name, estimator = parse_model(text)
        if name in models:
            raise InputError(f"--model {name!r} is given twice; give each model its own NAME")
        models[name] = estimator
    return models


DISTRIBUTION = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*\((.*)\)\s*$", re.DOTALL)


def parse_param(text: str) -> tuple[str, Any]:
    """Parse ``--param NAME=VALUES`` into a parameter name and what a search tries.

    VALUES is a comma-separated list (``10,25,50``; each a Python literal, or else a bare
    word taken as a string: ``gini,entropy``), or a distribution of ``scipy.stats`` with
    literal arguments (``loguniform(0.001, 1)``, ``randint(1, 10)``), for a randomized
    search.

    Raises
    ------
    InputError
        If the text is malformed, names anything but a ``scipy.stats`` distribution, or
        lists no value.
    """
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier() or not spec.strip():
        raise InputError(f"--param {text!r}: expected NAME=V1,V2,... or NAME=distribution(...)")
    match = DISTRIBUTION.match(spec)
    if match:
        import scipy.stats

        dist = getattr(scipy.stats, match.group(1), None)
        if not isinstance(dist, scipy.stats.rv_continuous | scipy.stats.rv_discrete):
            raise InputError(
                f"--param {text!r}: {match.group(1)!r} is not a scipy.stats distribution "
                "(such as uniform, loguniform, randint)"
            )
        try:
            arguments = ast.literal_eval(f"({match.group(2)},)")
            return name, dist(*arguments)
        except Exception as exc:
            reason = one_line(exc)
            raise InputError(f"--param {text!r}: bad distribution arguments ({reason})") from None
    try:
        values = list(ast.literal_eval(f"[{spec}]"))
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        values = [_value(item.strip()) for item in spec.split(",") if item.strip()]
    if not values:
        raise InputError(f"--param {text!r}: give at least one value")
    return name, values


def _value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return text


def parse_params(texts: Iterable[str]) -> dict[str, Any]:
    """Parse several ``--param`` values into a search's parameter space.

    Raises
    ------
    InputError
        If a value is malformed (see :func:`parse_param`) or a name is given twice.
    """
    space: dict[str, Any] = {}
    for text in texts:
        name, values = parse_param(text)
        if name in space:
            raise InputError(f"--param {name!r} is given twice; list all its values in one")
        space[name] = values
    return space


def load_csv(
    path: Path, target: str, groups: str | None = None
) -> tuple[pd.DataFrame, pd.Series, pd.Series | None]:
    """Read a CSV file and split it into features, the ``target`` column and, if named,
    the ``groups`` column (neither is a feature).

    Raises
    ------
    InputError
        If the file cannot be read, two columns share a name, or ``target`` or ``groups``
        is not one or has missing values.
    """
    try:
        header = pd.read_csv(path, header=None, nrows=1, dtype=str).iloc[0].tolist()
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read --data {str(path)!r}: {exc}") from None
    named = Counter(name for name in header if isinstance(name, str))
    repeated = [name for name, count in named.items() if count > 1]
    if repeated:
        raise InputError(
            f"--data {str(path)!r} has more than one column named "
            f"{', '.join(map(repr, repeated))}; give every column its own name"
        )
    chosen = {"--target": target} | ({"--groups": groups} if groups is not None else {})
    if groups == target:
        raise InputError(f"--groups {groups!r} is the --target column; name another")
    for option, column in chosen.items():
        if column not in table.columns:
            columns = ", ".join(map(str, table.columns))
            raise InputError(f"{option} {column!r} is not a column of {str(path)!r} ({columns})")
        missing = int(table[column].isna().sum())
        if missing:
            raise InputError(
                f"{option} {column!r} has {missing} missing value{'s' * (missing > 1)} in "
                f"{str(path)!r}; drop those rows or fill them in first"
            )
    features = table.drop(columns=list(chosen.values()))
    return features, table[target], None if groups is None else table[groups]

"""Turn command-line text into Python objects: estimators, data files and workloads.

``--model NAME=module:Class(key=value, ...)`` builds an estimator (keyword values are
Python literals); ``--data FILE.csv --target COLUMN`` reads a table; ``--workload
module:function`` calls a function of yours that returns a :class:`~foldrace.workload.Workload`.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from foldrace.errors import InputError

__all__ = ["load_csv", "load_object", "parse_model"]


def load_object(spec: str) -> Any:
    """Import ``module:attribute`` (the current directory is importable too)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise InputError(f"{spec!r} is not of the form module:name")
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"cannot import module {module_name!r}: {exc}") from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise InputError(f"module {module_name!r} has no attribute {attribute!r}") from None


def parse_model(text: str) -> tuple[str, Any]:
    """Parse ``NAME=module:Class(key=value, ...)`` into ``(name, estimator)``.

    Examples
    --------
    >>> parse_model("tree=sklearn.tree:DecisionTreeClassifier(max_depth=3, random_state=0)")
    ('tree', DecisionTreeClassifier(max_depth=3, random_state=0))
    """
    name, sep, spec = text.partition("=")
    if not sep or not name or not spec:
        raise InputError(f"--model {text!r}: expected NAME=module:Class(key=value, ...)")
    target, _, arguments = spec.partition("(")
    kwargs: dict[str, Any] = {}
    if arguments:
        try:
            call = ast.parse(f"f({arguments}", mode="eval").body
            if not isinstance(call, ast.Call) or call.args:
                raise ValueError("only keyword arguments are accepted")
            kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
        except (SyntaxError, ValueError) as exc:
            raise InputError(f"--model {text!r}: bad arguments ({exc})") from None
    cls = load_object(target.strip())
    try:
        return name, cls(**kwargs)
    except TypeError as exc:
        raise InputError(f"--model {text!r}: {exc}") from None


def load_csv(path: Path, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """Read a CSV file and split it into features and the ``target`` column."""
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read --data {str(path)!r}: {exc}") from None
    if target not in table.columns:
        columns = ", ".join(map(str, table.columns))
        raise InputError(f"--target {target!r} is not a column of {str(path)!r} ({columns})")
    return table.drop(columns=target), table[target]

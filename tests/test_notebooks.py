"""A user's notebook: an estimator defined in a cell, raced in a real Jupyter kernel.

A notebook's ``__main__`` has no file, so workers that import classes by module (spawn and
forkserver pools) cannot load the estimator; fork workers inherit it, and cloudpickle
(joblib's loky, scikit-learn's ``n_jobs``, Dask) carries it by value.
"""

from __future__ import annotations

import nbformat

from conftest import execute_notebook, extra, printed, warned

IMPORTS = """\
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from foldrace import Workload, default_workload, race
from foldrace.errors import InputError
"""

ESTIMATOR = '''\
class Shrunk(ClassifierMixin, BaseEstimator):
    """A classifier written in the notebook: a logistic regression with strong shrinkage."""

    def __init__(self, C=0.05):
        self.C = C

    def fit(self, X, y):
        self.model_ = LogisticRegression(C=self.C).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


base = default_workload(n_samples=300)
workload = Workload(base.X, base.y, {"shrunk": Shrunk()})
'''

RACE = """\
result = race(workload, {executors!r}, [2], repeats=1, warmup=0)
print(result.executors, result.check().identical)
"""

REFUSED = """\
for method in ("spawn", "forkserver"):
    try:
        race(workload, ["map"], [2], repeats=1, start_method=method)
    except InputError as error:
        print(method, "refused:", error)
    else:
        raise AssertionError(f"{method} raced a class its workers cannot import")
"""


def notebook(*cells: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])


def test_a_notebook_estimator_races_wherever_it_can_be_carried(tmp_path):
    carried = ["map", "submit", "joblib", "gridsearch", "cross_validate"]
    book = notebook(IMPORTS, ESTIMATOR, RACE.format(executors=carried), REFUSED)
    execute_notebook(book, tmp_path)
    assert printed(book.cells[2]).split("] ")[1].strip() == "True"  # identical scores
    for name in carried:
        assert f"'{name}'" in printed(book.cells[2])
    refusals = printed(book.cells[3])
    for method in ("spawn", "forkserver"):
        assert f"{method} refused: " in refusals
        assert f"a notebook), which {method} workers cannot import" in refusals
    assert "move it into a .py module" in refusals


def test_a_notebook_estimator_races_on_a_dask_cluster(tmp_path):
    extra("distributed", "dask")
    carried = ["submit/dask", "dask_submit", "dask_map", "joblib/dask"]
    book = notebook(IMPORTS, ESTIMATOR, RACE.format(executors=carried))
    execute_notebook(book, tmp_path)
    shown = printed(book.cells[2])
    assert shown.split("] ")[1].strip() == "True", shown
    for name in carried:
        assert f"'{name}'" in shown


def test_importing_foldrace_in_a_notebook_prints_nothing_and_its_bar_is_text(tmp_path):
    """tqdm warns "IProgress not found" when a notebook without ipywidgets (no extra installs
    it) imports its automatic bar; foldrace's import must not, and its bar falls back to text."""
    race_cell = "result = race(workload, ['map'], [1], repeats=1, warmup=0, progress=True)"
    book = notebook("import foldrace", IMPORTS, ESTIMATOR, race_cell)
    execute_notebook(book, tmp_path)
    assert book.cells[0].outputs == []
    bar = warned(book.cells[3])
    assert "race: 100%" in bar
    assert "TqdmWarning" not in bar

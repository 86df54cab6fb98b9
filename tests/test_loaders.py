"""Command-line text to objects: ``--model``, ``--param``, ``--data`` and ``module:name``,
with the whole of each error message (what the user reads)."""

from __future__ import annotations

import re
import sys

import pytest
from sklearn.tree import DecisionTreeClassifier

from foldrace import InputError
from foldrace.loaders import is_estimator_class, load_csv, load_object, parse_model, parse_param

TREE = "sklearn.tree:DecisionTreeClassifier"


def _refused(message: str):
    return pytest.raises(InputError, match=f"^{re.escape(message)}$")


class DuckEstimator:
    """Not a scikit-learn estimator, but shaped like one."""

    def fit(self, X, y):
        return self

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self


class Unfit:
    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self


def test_estimator_classes_are_scikit_learns_or_shaped_like_them():
    assert is_estimator_class(DecisionTreeClassifier)
    assert is_estimator_class(DuckEstimator)
    assert not is_estimator_class(Unfit)
    assert not is_estimator_class(DecisionTreeClassifier())  # an instance


def test_load_object_splits_at_the_first_colon():
    with _refused("module 'math' has no attribute 'pi:x'"):
        load_object("math:pi:x")
    with _refused("module 'math' has no attribute 'tau2'"):
        load_object("math:tau2")
    for spec in (":pi", "math:", "math"):
        with _refused(f"{spec!r} is not of the form module:name"):
            load_object(spec)


def test_the_current_folder_is_searched_last_and_added_once(monkeypatch):
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != ""])
    assert load_object("math:pi") > 3
    assert sys.path[-1] == ""
    load_object("math:pi")
    assert sys.path.count("") == 1


def test_a_model_is_a_name_and_an_estimator_class_with_literal_keywords():
    name, model = parse_model(f"tree={TREE}(max_depth=3, criterion='entropy')")
    assert name == "tree"
    assert model.get_params()["max_depth"] == 3
    assert model.get_params()["criterion"] == "entropy"
    name, model = parse_model(f"plain={TREE}")
    assert name == "plain"
    assert isinstance(model, DecisionTreeClassifier)
    name, model = parse_model(f" spaced = {TREE}(max_depth=2)")  # as a shell user may quote it
    assert name == "spaced"
    assert model.get_params()["max_depth"] == 2


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("t=", "expected NAME=module:Class(key=value, ...)"),
        (f"={TREE}", "expected NAME=module:Class(key=value, ...)"),
        (TREE, "expected NAME=module:Class(key=value, ...)"),
        (f"  ={TREE}", "expected NAME=module:Class(key=value, ...)"),
        ("t=  ", "expected NAME=module:Class(key=value, ...)"),
        (f"t={TREE}(max_depth=", "bad arguments ('(' was never closed)"),
        (f"t={TREE}(3)", "only key=value arguments are accepted"),
        (f"t={TREE}(**{{'max_depth': 3}})", "only key=value arguments are accepted"),
        (
            f"t={TREE}(max_depth=len)",
            "the value of 'max_depth' is not a Python literal (a number, string, bool, None, "
            "or a tuple, list or dict of them)",
        ),
        (
            "t=math:pi",
            "math:pi is not a scikit-learn estimator class; name a class such as "
            "sklearn.tree:DecisionTreeClassifier",
        ),
    ],
)
def test_a_bad_model_is_named_with_its_option(text, problem):
    with _refused(f"--model {text!r}: {problem}"):
        parse_model(text)
    with _refused(f"--search {text!r}: {problem}"):
        parse_model(text, option="--search")


def test_an_estimator_that_refuses_its_arguments_says_why():
    text = f"t={TREE}(nonsense=1)"
    with pytest.raises(InputError, match=rf"^--model {re.escape(repr(text))}: TypeError: .*"):
        parse_model(text)


def test_param_values_are_literals_or_words_and_the_name_ends_at_the_first_equals():
    assert parse_param("x=2,gini") == ("x", [2, "gini"])
    assert parse_param("n=a=b") == ("n", ["a=b"])
    assert parse_param(" n =1") == ("n", [1])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1x=3", "expected NAME=V1,V2,... or NAME=distribution(...)"),
        ("x=", "expected NAME=V1,V2,... or NAME=distribution(...)"),
        ("x=,", "give at least one value"),
        (
            "x=foo(1)",
            "'foo' is not a scipy.stats distribution (such as uniform, loguniform, randint)",
        ),
    ],
)
def test_a_bad_param_says_what_is_wrong(text, problem):
    with _refused(f"--param {text!r}: {problem}"):
        parse_param(text)


def test_bad_distribution_arguments_say_why():
    text = "C=uniform(1, 2, 3, 4, 5)"
    with pytest.raises(InputError, match=r"bad distribution arguments \(TypeError: .*\)$"):
        parse_param(text)


# --data


def _csv(tmp_path, text: str):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


def test_a_table_splits_into_features_target_and_groups(tmp_path):
    path = _csv(tmp_path, "a,b,label,patient\n1,2,0,p\n3,4,1,q\n")
    features, target, groups = load_csv(path, "label", "patient")
    assert list(features.columns) == ["a", "b"]
    assert target.tolist() == [0, 1]
    assert groups.tolist() == ["p", "q"]
    features, target, groups = load_csv(path, "label")
    assert list(features.columns) == ["a", "b", "patient"]
    assert groups is None


@pytest.mark.parametrize(
    ("text", "target", "groups", "problem"),
    [
        ("a,a,b,b,label\n1,2,3,4,0\n", "label", None, "has more than one column named 'a', 'b'"),
        ("1,1,label\n1,2,0\n", "label", None, "has more than one column named '1'"),
    ],
)
def test_repeated_column_names_are_refused(tmp_path, text, target, groups, problem):
    path = _csv(tmp_path, text)
    with _refused(f"--data {str(path)!r} {problem}; give every column its own name"):
        load_csv(path, target, groups)


def test_named_columns_must_be_there_complete_and_apart(tmp_path):
    path = _csv(tmp_path, "a,label,g\n1,,x\n2,,\n3,1,y\n")
    where = repr(str(path))
    with _refused(f"--target 'y' is not a column of {where} (a, label, g)"):
        load_csv(path, "y")
    with _refused(f"--groups 'h' is not a column of {where} (a, label, g)"):
        load_csv(path, "a", "h")
    with _refused("--groups 'a' is the --target column; name another"):
        load_csv(path, "a", "a")
    fill = "drop those rows or fill them in first"
    with _refused(f"--target 'label' has 2 missing values in {where}; {fill}"):
        load_csv(path, "label")
    with _refused(f"--groups 'g' has 1 missing value in {where}; {fill}"):
        load_csv(path, "a", "g")


def test_a_file_that_cannot_be_read_is_named(tmp_path):
    path = tmp_path / "missing.csv"
    with pytest.raises(InputError, match=f"^cannot read --data {re.escape(repr(str(path)))}: "):
        load_csv(path, "label")

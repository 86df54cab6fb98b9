"""The workload: the blog's set-up, user data, and checks on bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.svm import SVC

from conftest import SEED_SCORES
from foldrace import InputError, Workload, benchmark_fold, default_workload


def test_default_workload_reproduces_the_blog_setup(seed_workload):
    assert seed_workload.shape == (1000, 20)
    assert seed_workload.model_names == ("logit", "rf")
    assert len(seed_workload.folds) == 3
    assert seed_workload.models["rf"].get_params()["min_samples_leaf"] == 20
    assert seed_workload.models["rf"].get_params()["random_state"] == 0
    expected = list(
        StratifiedKFold(3, shuffle=True, random_state=123).split(seed_workload.X, seed_workload.y)
    )
    for (train, test), (want_train, want_test) in zip(seed_workload.folds, expected, strict=True):
        np.testing.assert_array_equal(train, want_train)
        np.testing.assert_array_equal(test, want_test)


def test_default_workload_scores_match_the_recorded_figures(seed_workload):
    results = [benchmark_fold(*seed_workload.common_args, t) for t in seed_workload.tasks()]
    for model, expected in SEED_SCORES.items():
        assert float(np.mean([r.scores[model] for r in results])) == expected


def test_sizes_are_parameters():
    workload = default_workload(n_samples=200, n_features=5, n_folds=4, seed=1)
    assert workload.shape == (200, 5)
    assert len(workload.tasks()) == 4
    assert "200 x 5" in workload.description


def test_folds_accept_int_splitter_and_index_pairs(small_workload):
    X, y = small_workload.X, small_workload.y
    models = {"logit": LogisticRegression(solver="liblinear")}
    assert len(Workload(X, y, models, folds=5).folds) == 5
    assert len(Workload(X, y, models, folds=KFold(4)).folds) == 4
    pairs = [(np.arange(0, 150), np.arange(150, 300)), (np.arange(150, 300), np.arange(0, 150))]
    workload = Workload(X, y, models, folds=pairs)
    np.testing.assert_array_equal(workload.folds[1][1], np.arange(0, 150))


def test_dataframe_input_is_accepted(small_workload):
    X = pd.DataFrame(small_workload.X).add_prefix("f")
    y = pd.Series(small_workload.y)
    workload = Workload(X, y, {"logit": LogisticRegression(solver="liblinear")})
    result = benchmark_fold(*workload.common_args, workload.tasks()[0])
    assert 0.5 < result.scores["logit"] <= 1.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"y": np.zeros(300)}, "single class"),
        ({"y": np.arange(299) % 2}, "X has 300 samples but y has 299"),
        ({"X": np.empty((0, 3)), "y": np.empty(0)}, "empty"),
        ({"folds": 200}, "more than the smallest class allows"),
        ({"folds": "three"}, "folds must be an int"),
        ({"folds": [(np.arange(10), np.array([], dtype=int))]}, "fold 0 has an empty test set"),
        ({"models": {}}, "at least one estimator"),
        ({"models": {"svc": SVC()}}, "has no predict_proba"),
        ({"models": {"x": object()}}, "not a scikit-learn estimator"),
        ({"models": {"": SVC()}}, "model names must be non-empty strings, got ''"),
        ({"models": {"  ": SVC()}}, "model names must be non-empty strings, got '  '"),
        ({"models": {3: SVC()}}, "model names must be non-empty strings, got 3"),
        ({"y": np.arange(300) % 3}, "binary"),
    ],
)
def test_bad_workloads_are_refused(small_workload, change, message):
    arguments = {
        "X": small_workload.X,
        "y": small_workload.y,
        "models": {"logit": LogisticRegression(solver="liblinear")},
        "folds": 3,
    } | change
    with pytest.raises(InputError, match=message):
        Workload(**arguments)


def test_single_class_test_fold_is_refused(small_workload):
    order = np.argsort(small_workload.y, kind="stable")  # class 0 first
    folds = [(order[100:], order[:100])]
    with pytest.raises(InputError, match="fold 0's test set holds a single class"):
        Workload(small_workload.X, small_workload.y, {"m": LogisticRegression()}, folds=folds)


def test_nan_is_refused_for_estimators_that_cannot_take_it(small_workload):
    X = small_workload.X.copy()
    X[3, 2] = np.nan
    with pytest.raises(InputError, match="X contains NaN and model 'logit'"):
        Workload(X, small_workload.y, {"logit": LogisticRegression()})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_samples": 2}, "samples must be at least 4"),
        ({"n_features": 1}, "features must be at least 2"),
        ({"n_folds": 1}, "folds must be at least 2"),
        ({"n_folds": 2.5}, "folds must be an integer"),
        ({"seed": -1}, "seed must be an integer from 0 to 4294967295"),
        ({"seed": 2**32}, "seed must be an integer from 0 to 4294967295"),
        ({"n_samples": 10_000_000_000}, r"would need 1600\.0 GB for X alone, more than half"),
        ({"n_features": 1_000_000_000}, r"would need 8000\.0 GB for X alone, more than half"),
    ],
)
def test_bad_sizes_are_refused(kwargs, message):
    with pytest.raises(InputError, match=message):
        default_workload(**kwargs)


def _table(small_workload) -> pd.DataFrame:
    return pd.DataFrame(small_workload.X).add_prefix("x")


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("x4", "a", r"X column 'x4' is not numeric \(it holds 'a'\) and model 'logit'"),
        ("x2", "7,5", r"X column 'x2' is not numeric \(it holds '7,5'\)"),
        ("x1", np.inf, "X column 'x1' holds infinite values"),
        ("x0", -np.inf, "X column 'x0' holds infinite values"),
        ("x3", np.nan, r"X contains NaN and model 'logit' .*column 'x3' holds NaN"),
    ],
)
def test_features_that_are_not_finite_numbers_are_refused(small_workload, column, value, message):
    X = _table(small_workload)
    X[column] = X[column].astype(object if isinstance(value, str) else float)
    X.loc[5, column] = value
    with pytest.raises(InputError, match=message):
        Workload(X, small_workload.y, {"logit": LogisticRegression()})


def test_infinite_values_in_an_array_name_the_column(small_workload):
    X = small_workload.X.copy()
    X[4, 6] = np.inf
    with pytest.raises(InputError, match="X column 6 holds infinite values"):
        Workload(X, small_workload.y, {"logit": LogisticRegression()})
    strings = small_workload.X.astype(object)
    strings[2, 1] = "n/a"
    with pytest.raises(InputError, match=r"X column 1 is not numeric \(it holds 'n/a'\)"):
        Workload(strings, small_workload.y, {"logit": LogisticRegression()})


def test_text_columns_are_left_to_pipelines_that_encode_them(small_workload):
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X = _table(small_workload).assign(colour=np.where(small_workload.y == 1, "red", "blue"))
    encode = make_column_transformer((OneHotEncoder(), ["colour"]), remainder="passthrough")
    pipeline = make_pipeline(encode, LogisticRegression(solver="liblinear"))
    workload = Workload(X, small_workload.y, {"pipe": pipeline})
    assert benchmark_fold(*workload.common_args, workload.tasks()[0]).scores["pipe"] > 0.9


@pytest.mark.parametrize("y_type", ["array", "series", "labels"])
def test_missing_target_values_are_refused(small_workload, y_type):
    y = small_workload.y.astype(float)
    y[[3, 8]] = np.nan
    if y_type == "series":
        y = pd.Series(y)
    elif y_type == "labels":
        y = pd.Series(np.where(small_workload.y == 1, "yes", "no")).where(lambda s: s.index != 3)
    with pytest.raises(InputError, match=r"the target y has [12] missing values?; drop"):
        Workload(small_workload.X, y, {"logit": LogisticRegression()})


def test_a_bad_estimator_parameter_is_refused_naming_the_model(small_workload):
    from sklearn.tree import DecisionTreeClassifier

    models = {"tree": DecisionTreeClassifier(max_depth="abc")}
    message = r"model 'tree' \(DecisionTreeClassifier\) has a bad parameter: The 'max_depth' "
    with pytest.raises(InputError, match=message + r"parameter .* Got 'abc' instead"):
        Workload(small_workload.X, small_workload.y, models)


def test_group_splitters_get_the_groups_and_an_int_keeps_groups_whole(small_workload):
    from sklearn.model_selection import GroupKFold

    groups = np.arange(len(small_workload.y)) % 10
    for folds in (GroupKFold(3), 3):
        workload = Workload(small_workload.X, small_workload.y, small_workload.models,
                            folds=folds, groups=groups)  # fmt: skip
        assert len(workload.folds) == 3
        for train, test in workload.folds:
            assert not set(groups[train]) & set(groups[test])
    plain = Workload(small_workload.X, small_workload.y, small_workload.models, folds=3)
    assert [list(t) for _, t in plain.folds] == [
        list(t) for _, t in StratifiedKFold(3).split(small_workload.X, small_workload.y)
    ]  # check_cv's choice for a classifier
    with pytest.raises(InputError, match="GroupKFold splits by group: give groups="):
        Workload(small_workload.X, small_workload.y, small_workload.models, folds=GroupKFold(3))
    with pytest.raises(InputError, match="groups must hold one label per sample"):
        Workload(small_workload.X, small_workload.y, small_workload.models, groups=[1, 2])

"""Searches as workloads: the candidates, scores, ranks and selection scikit-learn gives."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from scipy.stats import randint
from sklearn.model_selection import GridSearchCV, ParameterSampler, RandomizedSearchCV
from sklearn.tree import DecisionTreeClassifier

from foldrace import InputError, race
from foldrace.cli import ExitCode, main
from foldrace.loaders import parse_param, parse_params
from foldrace.results import RaceResult
from foldrace.search import candidate_names, rank_candidates, search_workload
from foldrace.workload import default_workload

GRID = {"max_depth": [2, 4, None], "min_samples_leaf": [1, 10]}
SPACE = {"max_depth": randint(1, 8), "min_samples_leaf": [1, 5, 10]}


@pytest.fixture(scope="module")
def data():
    base = default_workload(n_samples=400)
    return base.X, base.y


def _tree():
    return DecisionTreeClassifier(random_state=0)


@pytest.mark.processes
def test_a_grid_search_race_selects_what_gridsearchcv_selects_bit_for_bit(data, tmp_path):
    X, y = data
    workload = search_workload(_tree(), GRID, X=X, y=y, folds=3, name="tree")
    entrants = ["apply_async", "submit/thread", "gridsearch", "cross_validate"]
    result = race(workload, entrants, [2], repeats=1, warmup=0)
    assert result.granularities == ["fold-model"]  # one task per candidate and fold
    assert result.meta["workload"]["n_tasks"] == {"fold-model": 18}
    search = GridSearchCV(_tree(), GRID, cv=list(workload.folds), scoring=workload.scorer)
    search.fit(X, y)
    ranking = result.ranking()
    assert [r for r in ranking["params"]] == search.cv_results_["params"]
    assert [s.hex() for s in ranking["mean_test_score"]] == [
        float(s).hex() for s in search.cv_results_["mean_test_score"]
    ]
    assert list(ranking["rank_test_score"]) == list(search.cv_results_["rank_test_score"])
    assert ranking.loc[ranking["selected"], "params"].iloc[0] == search.best_params_
    selections = result.selections()
    assert len(selections) == 5
    assert selections["same_ranks"].all()
    assert set(selections["selected"]) == {ranking.loc[ranking["selected"], "candidate"].iloc[0]}
    result.write(tmp_path)
    again = RaceResult.read(tmp_path / "results.json")
    assert again.ranking()["candidate"].tolist() == ranking["candidate"].tolist()


@pytest.mark.processes
def test_a_randomized_search_draws_the_candidates_randomizedsearchcv_draws(data):
    X, y = data
    workload = search_workload(
        _tree(), param_distributions=SPACE, n_iter=6, random_state=3, X=X, y=y, folds=3
    )
    search = RandomizedSearchCV(
        _tree(), SPACE, n_iter=6, random_state=3, cv=list(workload.folds), scoring=workload.scorer
    ).fit(X, y)
    assert list(workload.candidates.values()) == search.cv_results_["params"]
    result = race(workload, ["map"], [2], repeats=1, warmup=0)
    ranking = result.ranking()
    assert list(ranking["rank_test_score"]) == list(search.cv_results_["rank_test_score"])
    assert ranking.loc[ranking["selected"], "params"].iloc[0] == search.best_params_
    assert "random (6 draws, seed 3)" in workload.description


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: search_workload(_tree()), "either param_grid or param_distributions"),
        (lambda: search_workload(_tree(), GRID, param_distributions=SPACE), "one of them"),
        (lambda: search_workload(_tree(), {"depth": [1]}), "has no parameter 'depth'"),
        (lambda: search_workload(_tree(), param_distributions=SPACE, n_iter=0), "n_iter"),
        (lambda: search_workload(_tree(), {"max_depth": []}), "non-empty sequence"),
        (lambda: search_workload(_tree(), []), "no candidates"),
        (lambda: search_workload("tree", GRID), "scikit-learn estimator"),
        (lambda: search_workload(_tree(), GRID, X=[[1.0]]), "both X and y"),
    ],
)
def test_bad_searches_are_refused(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_candidates_are_named_by_their_parameters_and_never_twice():
    names = candidate_names("rf", [{"a": 0.123456, "b": "x"}, {"a": 0.1234561, "b": "x"}, {}])
    assert names == ["rf(a=0.1235, b='x')", "rf(a=0.1235, b='x')#2", "rf()"]


def test_ranks_follow_scikit_learn_ties_share_the_best_rank_and_the_first_is_selected():
    ranking = rank_candidates({"a": 0.5, "b": 0.7, "c": 0.7})
    assert list(ranking["rank_test_score"]) == [3, 1, 1]
    assert list(ranking["selected"]) == [False, True, False]


def test_params_parse_as_lists_literals_words_and_distributions():
    assert parse_param("n=10,25,50") == ("n", [10, 25, 50])
    assert parse_param("depth=2, None") == ("depth", [2, None])
    assert parse_param("criterion=gini,entropy") == ("criterion", ["gini", "entropy"])
    assert parse_param("layers=(10,),(20, 5)") == ("layers", [(10,), (20, 5)])
    name, dist = parse_param("C=loguniform(0.001, 1)")
    assert name == "C"
    assert 0.001 <= dist.rvs(random_state=0) <= 1
    for text, message in [
        ("C", "expected NAME="),
        ("C=", "expected NAME="),
        ("C=eval(1)", "'eval' is not a scipy.stats distribution"),
        ("C=loguniform(2)", "bad distribution arguments"),
    ]:
        with pytest.raises(InputError, match=message):
            parse_param(text)
    with pytest.raises(InputError, match="'n' is given twice"):
        parse_params(["n=1", "n=2"])


TREE = "tree=sklearn.tree:DecisionTreeClassifier(random_state=0)"


@pytest.mark.processes
def test_the_cli_races_a_search_and_prints_the_selection(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "run", "--search", TREE, "--param", "max_depth=2,4", "--param",
            "min_samples_leaf=1,10", "--executors", "submit", "--workers", "2",
            "--repeats", "1", "--samples", "300", "--no-plot", "--out", str(out),
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == ExitCode.OK
    assert "Search: 4 candidates, ranked as scikit-learn ranks them" in printed
    assert "selected: tree(max_depth=" in printed
    meta = json.loads((out / "latest" / "results.json").read_text())["meta"]
    assert meta["granularities"] == ["fold-model"]
    first = next(iter(meta["workload"]["candidates"].values()))
    assert first == {"max_depth": 2, "min_samples_leaf": 1}


@pytest.mark.processes
def test_the_cli_draws_a_randomized_search_with_its_seed(tmp_path, capsys):
    out = tmp_path / "out"
    arguments = [
        "run", "--search", TREE, "--param", "max_depth=randint(1, 8)", "--n-iter", "3",
        "--search-seed", "5", "--executors", "map", "--workers", "1", "--repeats", "1",
        "--samples", "300", "--no-plot", "--quiet", "--out", str(out),
    ]  # fmt: skip
    assert main(arguments) == ExitCode.OK
    meta = json.loads((out / "latest" / "results.json").read_text())["meta"]
    drawn = [p["max_depth"] for p in meta["workload"]["candidates"].values()]
    sampler = ParameterSampler({"max_depth": randint(1, 8)}, 3, random_state=5)
    assert drawn == [p["max_depth"] for p in sampler]  # what RandomizedSearchCV draws


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--search", TREE], "at least one --param"),
        (["--param", "max_depth=1,2"], "needs --search"),
        (["--search", TREE, "--param", "max_depth=1", "--model", TREE], "leave out --model"),
        (["--search", TREE, "--param", "depth=1,2"], "has no parameter 'depth'"),
        (["--search", "tree=os:system", "--param", "x=1"], "not a scikit-learn estimator"),
    ],
)
def test_bad_search_options_exit_2_with_one_line(tmp_path, capsys, arguments, message):
    code = main(["run", *arguments, "--workers", "1", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT
    assert message in err
    assert len(err.strip().splitlines()) == 1


PAGE = Path(__file__).resolve().parents[1] / "docs" / "tutorials" / "13-search.md"


def _page_commands() -> list[list[str]]:
    blocks = re.findall(r"```bash\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)
    lines = "\n".join(blocks).replace("\\\n", " ").splitlines()
    return [shlex.split(line)[1:] for line in lines if line.strip().startswith("foldrace run")]


@pytest.mark.processes
@pytest.mark.parametrize("arguments", _page_commands(), ids=["grid", "randomized"])
def test_the_pages_commands_run_at_a_small_size(tmp_path, capsys, arguments):
    smaller = ["--samples", "300", "--folds", "3", "--repeats", "1", "--workers", "2"]
    quick = ["--executors", "starmap", "--no-plot", "--out", str(tmp_path)]
    assert main([*arguments, *smaller, *quick]) == ExitCode.OK
    assert "selected: " in capsys.readouterr().out


@pytest.mark.processes
def test_try_it_races_longest_first_against_the_given_order(tmp_path, capsys):
    grid = _page_commands()[0]
    smaller = ["--samples", "300", "--folds", "3", "--repeats", "1", "--workers", "2"]
    order = ["--order", "given", "longest-first", "--executors", "apply_async", "--quiet"]
    assert main([*grid, *smaller, *order, "--no-plot", "--out", str(tmp_path)]) == ExitCode.OK
    meta = json.loads((tmp_path / "latest" / "results.json").read_text())["meta"]
    assert meta["executors"] == ["serial", "apply_async", "apply_async/order=longest-first"]

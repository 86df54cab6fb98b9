"""The package's shape: no import cycles, nothing imports its own package's ``__init__``,
every private attribute of another library is used in one module, and every strategy's
dispatch call is on its first screen without naming a backend."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from foldrace.executors import BACKENDS, EXECUTORS
from foldrace.executors.strategies.sklearn_probe import OwnSearch

SRC = Path(__file__).resolve().parents[1] / "src"
MODULES = {
    ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__"): path
    for path in sorted((SRC / "foldrace").rglob("*.py"))
}


def _runtime_imports(path: Path) -> set[str]:
    """foldrace modules ``path`` imports when it runs (``TYPE_CHECKING`` blocks left out)."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for child in block.body
        for node in ast.walk(child)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & set(MODULES)
            found |= submodules or {node.module}  # a submodule, or names from the module
    return {name for name in found if name in MODULES}


GRAPH = {name: _runtime_imports(path) - {name} for name, path in MODULES.items()}


def test_the_package_has_no_import_cycles():
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(GRAPH[name]):
            if state.get(target) == "open":
                cycle = [*trail[trail.index(target) :], target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*trail, target])
        state[name] = "done"

    for name in MODULES:
        if name not in state:
            visit(name, [name])


@pytest.mark.parametrize("name", [n for n in MODULES if MODULES[n].name != "__init__.py"])
def test_no_module_imports_its_own_package_init(name):
    packages = [name.rsplit(".", k)[0] for k in range(1, name.count(".") + 1)]
    assert not GRAPH[name] & set(packages), f"{name} imports upward: {GRAPH[name] & set(packages)}"


PRIVATE = re.compile(
    r"\._pool\b|\._processes\b|\._success\b|\._value\b|_temp_folder_manager|\._backend\._|"
    r"_threads_queues|resource_tracker|_executor_lock|_executor_args|\._inqueue|\._outqueue|"
    r"_worker_handler|\.futures\.values\(\)"
)


def test_private_attributes_of_other_libraries_are_used_in_one_module():
    users = sorted(
        name
        for name, path in MODULES.items()
        if PRIVATE.search(path.read_text()) and not name.endswith(".internals")
    )
    assert users == []


@pytest.mark.parametrize("name", [n for n, cls in EXECUTORS.items() if cls.api is not None])
def test_a_strategy_shows_its_dispatch_call_on_its_first_screen(name):
    module = EXECUTORS[name].__module__
    lines = MODULES[module].read_text().splitlines()
    first_screen = "\n".join(lines[:60])
    # scikit-learn's own searches share their dispatch (OwnSearch) and show their search
    own_search = issubclass(EXECUTORS[name], OwnSearch)
    assert ("def search(" if own_search else "def dispatch(") in first_screen
    assert len(lines) < 100
    code = ast.parse("\n".join(lines))
    code.body = [n for n in code.body if not isinstance(n, ast.Import | ast.ImportFrom)]
    for node in ast.walk(code):  # docstrings go: they may say where the workers come from
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            body.pop(0)
    words = set(re.findall(r"[a-z]+", ast.unparse(code).lower()))
    own = {"dask"} if EXECUTORS[name].family.startswith("dask") else set()
    named = words & ({*BACKENDS, "processes", "threadpool", "threads"} - own)
    assert not named, f"a strategy names no backend: {named}"

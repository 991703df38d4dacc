"""The house rules, read from the code: layers, no cycles, small modules, pure statistics."""

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "nps_service"
# Bottom first: a unit may import its own modules and those of lower layers, never higher.
LAYERS = [
    {"survey", "timezones", "errors", "config", "logs", "metrics", "stats"},  # the bottom
    {"filters", "property_filters", "db", "migrate"},  # plain request data, storage plumbing
    {"web"},  # the HTTP kit
    {"keys", "responses", "displays", "webhooks"},  # the tables and who writes them
    {"rollups"},  # the aggregation engine
    {"scores"},  # where a score is computed
    {"drivers", "merchants", "alerts", "privacy"},  # features built on scores
    {"demo", "ops", "widget", "dashboard", "bi"},
    {"models", "main", "cli", "server", "__main__", "__init__"},  # wiring
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}
MAX_LINES = 300


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def imports_of(path: Path) -> set[str]:
    """Every nps_service module this one imports, at any depth of the code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("nps_service"):
                found.add(node.module)
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("nps_service")}
    known = {name for name, _ in modules()}
    return {name for name in found if name in known}


def unit(module: str) -> str:
    """The top-level package or module of `nps_service.<unit>...`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_unit_has_a_layer() -> None:
    units = {unit(name) for name, _ in modules()}
    assert units <= set(RANK), units - set(RANK)


def test_imports_only_go_down() -> None:
    upward = []
    for name, path in modules():
        for target in imports_of(path):
            if RANK[unit(target)] > RANK[unit(name)]:
                upward.append(f"{name} -> {target}")
    assert not upward, upward


def test_no_import_cycles() -> None:
    graph = {name: imports_of(path) - {name} for name, path in modules()}
    # Importing a package runs its __init__: a package depends on what that imports.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target) :], target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


@pytest.mark.parametrize("folder", ["src", "bench"])
def test_modules_are_small(folder: str) -> None:
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in (ROOT / folder).rglob("*.py")
    }
    assert sizes
    too_big = {path: lines for path, lines in sizes.items() if lines > MAX_LINES}
    assert not too_big, too_big


def test_the_vocabulary_is_defined_once() -> None:
    names = {"DIMENSIONS", "METRICS", "CLASSES", "CONTEXT_FIELDS", "SEGMENT_FIELDS", "Interval"}
    defined = []
    for name, path in modules():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = []
            if isinstance(node, ast.Assign):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                targets = [node.target.id]
            elif isinstance(node, ast.ClassDef):
                targets = [node.name]
            defined += [(target, name) for target in targets if target in names]
    assert sorted(defined) == sorted((n, "nps_service.survey") for n in names), defined


def test_statistics_import_without_the_service_stack() -> None:
    code = (
        "import sys; import nps_service.stats.nps, nps_service.stats.compare, "
        "nps_service.stats.trend, nps_service.stats.drivers, nps_service.stats.ranking; "
        "heavy = {'sqlalchemy', 'fastapi', 'pydantic_settings', 'starlette'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

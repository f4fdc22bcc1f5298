"""The house: imports run one way, from the faces down to the domain, and no module imports
itself back through others. Read from the source (every import statement, also those inside
functions), so a lazy import cannot hide an arrow."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = {"commerce", "config"}
BELOW_AGENT = DOMAIN | {"tools", "knowledge", "prompts"}
BELOW_SUPPORT = BELOW_AGENT | {"agent"}
BELOW_FACES = BELOW_SUPPORT | {"support"}

# What each part of the project may import of the others (its own modules aside).
MAY_IMPORT: dict[str, set[str]] = {
    "config": set(),
    "terminal": set(),
    "prompts": set(),
    "commerce": {"config"},
    "knowledge": {"config"},
    "tools": {"commerce"},
    "agent": BELOW_AGENT,
    "support": BELOW_SUPPORT,
    "evals": BELOW_FACES,
    "api": BELOW_FACES,
    "server": BELOW_FACES | {"api"},
    # The command line may run the evaluations and start the HTTP face (`helloword serve`).
    "commands": BELOW_FACES | {"evals", "terminal", "server", "api"},
    "cli": {"commands", "config", "terminal"},
}
NOT_PROJECT_CODE = {"tests", "bench", "scripts", "web", "data", "docs", ".venv", ".git"}


def project_modules() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in NOT_PROJECT_CODE or relative.parts[0].startswith("."):
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imported_names(path: Path, module: str) -> Iterator[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            yield origin
            yield from (f"{origin}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    """Module → the project's modules it imports (the most specific module each import names)."""
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(path, module):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def top(module: str) -> str:
    return module.split(".")[0]


def test_every_part_of_the_project_has_a_place_in_the_layers() -> None:
    unplaced = sorted({top(m) for m in project_modules()} - set(MAY_IMPORT))
    assert not unplaced, f"add these to MAY_IMPORT (and docs/architecture.md): {unplaced}"


def test_imports_only_run_downward() -> None:
    upward = [
        f"{module} imports {target}"
        for module, targets in sorted(import_graph().items())
        for target in sorted(targets)
        if top(target) != top(module) and top(target) not in MAY_IMPORT.get(top(module), set())
    ]
    assert not upward, "imports that run up or sideways:\n" + "\n".join(upward)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back_through_others() -> None:
    assert cycles(import_graph()) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_the_cycle_finder_finds_circles_and_only_circles(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(graph) == expected


def test_the_import_reader_resolves_relative_and_lazy_imports(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("from .sibling import thing\n\ndef f():\n    import agent.runner\n")
    names = set(imported_names(source, "support.m"))
    assert {"support.sibling", "support.sibling.thing", "agent.runner"} <= names

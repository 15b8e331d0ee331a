"""The layout's rules, read from the code's own imports (docs/architecture.md explains them).

Every import counts: module level, inside functions and under ``TYPE_CHECKING``, because a
cycle or a leak that only the type checker sees is still a knot a reader has to untie.
``make lint`` runs this file too.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "tui")
MAX_CLASS_LINES = 400
MAX_MODULE_LINES = 600
LARGE_MODULES = Path(__file__).with_name("large_modules.txt")

# Lower layers never import higher ones; a tuple holds siblings that never import each other.
ENGINE_LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",), ("workdir",), ("template", "store"), ("runners",), ("tasks", "triggers"),
    ("flow",), ("execution",), ("scheduling", "testing"), ("cli",),
)
# tui packages that reach the engine only through tui.engine_port.
PORTED_TUI = ("tui.widgets", "tui.screens", "tui.models")


@dataclass(frozen=True)
class Import:
    importer: str
    target: str       # the dotted name as written (resolved for relative imports)
    line: int


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module
    lines: int


@cache
def modules() -> dict[str, Module]:
    found: dict[str, Module] = {}
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            source = path.read_text(encoding="utf-8")
            found[".".join(parts)] = Module(".".join(parts), path, ast.parse(source), len(source.splitlines()))
    return found


def imports_of(module: Module) -> Iterator[Import]:
    package = module.name.split(".") if module.path.name == "__init__.py" else module.name.split(".")[:-1]
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module.name, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            submodules = [f"{name}.{a.name}" for a in node.names if f"{name}.{a.name}" in modules()]
            if len(submodules) < len(node.names):  # names defined in `name` itself
                yield Import(module.name, name, node.lineno)
            for submodule in submodules:  # `from engine.template import dates` imports a module
                yield Import(module.name, submodule, node.lineno)


def internal(target: str) -> str | None:
    """The project module an import names (its longest known prefix), or None."""
    name = target
    while name:
        if name in modules():
            return name
        name = name.rpartition(".")[0]
    return None


def all_imports() -> list[Import]:
    return [imp for module in modules().values() for imp in imports_of(module)]


def where(imp: Import) -> str:
    return f"{modules()[imp.importer].path.relative_to(REPO_ROOT)}:{imp.line} imports {imp.target}"


def engine_layer(module: str) -> tuple[int, str] | None:
    parts = module.split(".")
    if parts[0] != "engine" or len(parts) < 2:
        return None
    for rank, siblings in enumerate(ENGINE_LAYERS):
        if parts[1] in siblings:
            return rank, parts[1]
    return None


def test_every_engine_package_has_a_layer():
    packages = {m.split(".")[1] for m in modules() if m.startswith("engine.") and
                (REPO_ROOT / "engine" / m.split(".")[1]).is_dir()}
    known = {name for siblings in ENGINE_LAYERS for name in siblings}
    assert packages - known == set()


def test_engine_never_imports_tui_or_textual():
    leaks = [where(i) for i in all_imports()
             if i.importer.startswith("engine") and i.target.split(".")[0] in ("tui", "textual", "textual_serve")]
    assert leaks == []


def test_engine_layers_import_only_downward():
    leaks = []
    for imp in all_imports():
        source, target = engine_layer(imp.importer), engine_layer(internal(imp.target) or "")
        if source is None or target is None or source[1] == target[1]:
            continue
        if target[0] >= source[0]:
            leaks.append(f"{where(imp)} ({source[1]} may not import {target[1]})")
    assert leaks == []


def test_tui_models_never_import_textual():
    leaks = [where(i) for i in all_imports()
             if i.importer.startswith("tui.models") and i.target.split(".")[0] == "textual"]
    assert leaks == []


def test_tui_widgets_screens_and_models_reach_the_engine_only_through_the_port():
    leaks = [where(i) for i in all_imports()
             if i.importer.startswith(PORTED_TUI) and i.target.split(".")[0] == "engine"]
    assert leaks == []


def test_the_engine_port_imports_nothing_from_tui():
    leaks = [where(i) for i in all_imports() if i.importer == "tui.engine_port" and i.target.startswith("tui")]
    assert leaks == []


def test_no_import_cycle_in_engine_or_tui():
    graph: dict[str, set[str]] = {name: set() for name in modules()}
    for imp in all_imports():
        target = internal(imp.target)
        if target is not None and target != imp.importer:
            graph[imp.importer].add(target)
    cycles = [sorted(c) for c in strongly_connected(graph) if len(c) > 1]
    assert cycles == []


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the graph is a few hundred modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                found.append(component)
    return found


def test_strongly_connected_finds_a_cycle_and_ignores_a_chain():
    # the checker itself: a cycle a -> b -> c -> a is one component, a chain is not
    assert {"a", "b", "c"} in strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert all(len(c) == 1 for c in strongly_connected({"a": {"b"}, "b": {"c"}, "c": set()}))


def test_no_class_over_400_lines():
    large = []
    for module in modules().values():
        for node in ast.walk(module.tree):
            if isinstance(node, ast.ClassDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_CLASS_LINES:
                    large.append(f"{module.path.relative_to(REPO_ROOT)}: class {node.name} has {length} lines")
    assert large == []


def allowed_large_modules() -> dict[str, str]:
    """`path: reason` lines of tests/large_modules.txt (# comments and blank lines ignored)."""
    allowed = {}
    for raw in LARGE_MODULES.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        path, _, reason = line.partition(":")
        allowed[path.strip()] = reason.strip()
    return allowed


def test_no_module_over_600_lines_without_a_reason():
    allowed = allowed_large_modules()
    unexplained = [f"{rel}: {m.lines} lines" for m in modules().values()
                   if m.lines > MAX_MODULE_LINES
                   and not allowed.get(rel := str(m.path.relative_to(REPO_ROOT)))]
    assert unexplained == []


def test_the_large_module_list_names_only_large_modules():
    sizes = {str(m.path.relative_to(REPO_ROOT)): m.lines for m in modules().values()}
    stale = [path for path in allowed_large_modules() if sizes.get(path, 0) <= MAX_MODULE_LINES]
    assert stale == []


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["validate", "sample_flows/hello.yml"]],
                         ids=["help", "run-help", "validate"])
def test_the_roost_entry_point_imports_no_textual_for_headless_commands(argv, tmp_path):
    code = ("import sys\nfrom tui.launcher import main\n"
            f"sys.argv = ['roost', *{argv!r}]\n"
            "try:\n    main()\nexcept SystemExit as exit:\n    status = exit.code\n"
            "print(status, 'textual' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                            env={**os.environ, "ROOST_HOME": str(tmp_path)}, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "0 False", result.stderr


def documented_modules() -> set[str]:
    """`path` of every module docs/architecture.md lists: `### dir/` headings, `- \\`name\\`:` lines."""
    documented, folder = set(), None
    for line in (REPO_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            folder = line[4:].split()[0].rstrip("/")
        elif folder and line.startswith("- `") and "`:" in line:
            documented.add(f"{folder}/{line[3:line.index('`:')]}")
    return documented


def test_docs_architecture_lists_every_module_with_its_job():
    actual = {str(m.path.relative_to(REPO_ROOT)) for m in modules().values()
              if m.path.name != "__init__.py" or m.lines > 0}
    documented = documented_modules()
    assert (sorted(actual - documented), sorted(documented - actual)) == ([], [])

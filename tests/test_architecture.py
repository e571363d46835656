"""The shape the project keeps: no import cycles, small modules, one package per job in the wheel."""

import ast
import tomllib
from pathlib import Path
from typing import Dict, List, Set

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sources", "pipelines", "sandbox", "analytics", "tests", "benchmarks")
#: the sandboxes' data generators hold the vendors' whole data model; everything else stays small
MAX_LINES = 400
LONG_ALLOWED = {"sandbox/wootric/data.py", "sandbox/woku/data.py"}


def modules() -> Dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, name: str, known: Set[str]) -> Set[str]:
    """Project modules this one imports, anywhere in it (a lazy import is a dependency too)."""
    out = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        targets: List[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def test_no_import_cycles() -> None:
    found = modules()
    graph = {name: imports(path, name, set(found)) for name, path in found.items()}
    # a package's __init__ re-exporting its submodules is not a cycle of design
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    cycles = []
    state: Dict[str, int] = {}
    stack: List[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []


def test_modules_stay_small() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in modules().values()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert {p: n for p, n in long.items() if p not in LONG_ALLOWED} == {}


def test_the_wheel_holds_the_project_packages_and_not_the_benchmarks() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packaged = set(find_packages(str(ROOT), include=include))
    assert {"sources.http_kit", "pipelines.runner", "pipelines.writeback", "sandbox.base"} <= packaged
    assert not any(p.split(".")[0] in ("benchmarks", "tests") for p in packaged)
    scripts = config["project"]["scripts"]
    assert scripts == {
        "wootric-pipeline": "pipelines.wootric_pipeline:main",
        "woku-pipeline": "pipelines.woku_pipeline:main",
    }

"""runner's import graph, read from the source, for the tests that check the house's shape
(tests/toolchain/test_house.py, test_import_layers.py, test_rooms.py, tests/steps/test_table.py).

Every ``import`` counts: at the top, under ``TYPE_CHECKING`` and inside functions; relative
imports (the plugins import each other so) are resolved against the module's package.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from helpers import ROOT


def module_name(relative: str) -> str:
    return relative.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def modules(*tops: str) -> dict[str, Path]:
    """The modules under the top folders ``tops`` of the repository, by dotted name."""
    return {module_name(p.relative_to(ROOT).as_posix()): p
            for top in tops for p in (ROOT / top).rglob("*.py")}


@functools.cache
def import_graph(*tops: str) -> dict[str, set[str]]:
    """Each module under ``tops`` (default ``runner``) with the modules among them it imports."""
    files = modules(*(tops or ("runner",)))
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        out: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # from . import x, from ..y import z
                    parts = package[:len(package) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                targets = [base, *(f"{base}.{a.name}" for a in node.names)]
            out |= {t for t in targets if t in files and t != name}
        graph[name] = out
    return graph


def reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module ``start`` imports, directly or through others."""
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += graph.get(m, ())
    return seen

"""The shape of the house, measured (issue 12): imports run downward only, no import circles,
small rooms.

- The layers are declared once, in pyproject.toml's ``[tool.importlinter]`` (import-linter reads
  every import, also under ``TYPE_CHECKING`` and inside functions); ``exhaustive`` makes a new
  module take its place in a layer before this test passes.
- Modules that share a layer may import each other, so circles are checked on their own, over
  every module of ``runner/`` and ``plugins/``, from the source.
- No module over 400 lines, and the median module at most 100: one idea per room.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

from helpers import ROOT
from import_graph import import_graph, modules

MAX_LINES, MAX_MEDIAN = 400, 100


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
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
                component = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    component.append(m)
                    if m == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_imports_run_downward_through_the_declared_layers() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_no_module_of_runner_or_plugins_is_on_an_import_circle() -> None:
    assert _circles(import_graph("runner", "plugins")) == []


def test_the_circle_finder_finds_a_circle() -> None:
    # the test above passes on an empty answer: show the finder does see one
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_rooms_are_small() -> None:
    sizes = {name: len(path.read_text().splitlines())
             for name, path in modules("runner", "plugins").items()}
    too_big = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert not too_big, f"over {MAX_LINES} lines: {too_big}"
    assert statistics.median(sizes.values()) <= MAX_MEDIAN, sorted(sizes.items(),
                                                                   key=lambda kv: -kv[1])[:20]

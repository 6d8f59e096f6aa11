"""The rooms split out of the store, the console and reports, the simulator base, the schedule
file and the fingerprint: each lower room imports nothing above it and none is on an import
circle. A name is imported from its home: no module of ``runner/`` passes on, through its
``__all__``, a name it imported, except the faces that exist to gather names from their homes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import ROOT
from import_graph import import_graph, reaches

# (lower, upper): the upper room imports the lower one, the lower never climbs back
LAYERS = (
    ("runner.store_url", "runner.store"),
    ("runner.store_schema", "runner.store"),
    ("runner.store_schema", "runner.store_migrations"),
    ("runner.store_migrations", "runner.store"),
    ("runner.report", "runner.console"),
    ("runner.console", "runner.progress"),
    ("runner.json_log", "runner.progress"),
    ("runner.progress_line", "runner.progress"),
    ("runner.loop_tally", "runner.console"),
    ("runner.loop_tally", "runner.progress_line"),
    ("runner.failure_words", "runner.console"),
    ("runner.report_html_style", "runner.report_html"),
    ("runner.report_html_text", "runner.report_html_steps"),
    ("runner.report_html_steps", "runner.report_timeline"),
    ("runner.report_timeline", "runner.report_html"),
    ("runner.simulator_messages", "runner.simulator_server"),
    ("runner.simulator_faults", "runner.simulator_server"),
    ("runner.simulator_server", "runner.simulator"),
    ("runner.schedule_schema", "runner.schedule_file"),
    ("runner.cron_times", "runner.schedule_file"),
    ("runner.fingerprint_remap", "runner.fingerprint"),
)

# the faces: each gathers, lazily or for the console script, names that live in rooms below it
FACES = {
    "runner/api/__init__.py": "the top door: one function per verb, each from its own module",
    "runner/connectors/__init__.py": "what a connector or hook author imports, from one place",
    "runner/cli/__init__.py": "the click group, runner.cli.main, loaded when first used",
}


def _top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """The module's statements, also those inside a top-level if/try/with (not in a def)."""
    out: list[ast.stmt] = []
    for node in body:
        out.append(node)
        if isinstance(node, ast.If | ast.With):
            out += _top_level([*node.body, *getattr(node, "orelse", [])])
        elif isinstance(node, ast.Try):
            out += _top_level([*node.body, *node.orelse, *node.finalbody,
                               *(s for h in node.handlers for s in h.body)])
    return out


def passed_on(path: Path) -> list[str]:
    """The names in ``path``'s ``__all__`` that the module does not define itself (def, class
    or assignment): names it imported and passes on."""
    listed: list[str] = []
    defined: set[str] = set()
    for node in _top_level(ast.parse(path.read_text()).body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            defined |= names
            if "__all__" in names and isinstance(node.value, ast.List | ast.Tuple):
                listed += [e.value for e in node.value.elts if isinstance(e, ast.Constant)]
    return [name for name in listed if name not in defined]


def reexports(root: Path) -> dict[str, list[str]]:
    """Every module of ``root/runner`` but the faces, with the names it passes on."""
    out = {}
    for path in sorted((root / "runner").rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative not in FACES and (names := passed_on(path)):
            out[relative] = names
    return out


@pytest.mark.parametrize(("lower", "upper"), LAYERS, ids=lambda m: m.split(".")[-1])
def test_each_room_imports_downward_only(lower: str, upper: str) -> None:
    graph = import_graph()
    assert lower in reaches(graph, upper), (upper, "does not import", lower)
    assert upper not in reaches(graph, lower), (lower, "climbs back up to", upper)
    assert lower not in reaches(graph, lower), (lower, "is on an import circle")


def test_a_name_is_imported_from_its_home_not_through_another_modules_all() -> None:
    assert reexports(ROOT) == {}


def test_the_faces_are_there_and_pass_names_on() -> None:
    # a face that no longer gathers anything should leave this list
    for relative in FACES:
        assert passed_on(ROOT / relative), relative


def test_passed_on_tells_an_imported_name_from_a_defined_one(tmp_path: Path) -> None:
    module = tmp_path / "room.py"
    module.write_text("from x import a, b as c\nimport y\nd = 1\ne: int = 2\n"
                      "def f(): pass\nclass G: pass\n"
                      "try:\n    from z import h\nexcept ImportError:\n    h = None\n"
                      "__all__ = ['a', 'c', 'y', 'd', 'e', 'f', 'G', 'h']\n")
    assert passed_on(module) == ["a", "c", "y"]

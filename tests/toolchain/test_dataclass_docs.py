"""Every dataclass of ``runner/`` and ``plugins/`` has a docstring of its own (issue 14).

Python 3.11's ``dataclasses`` gives a class without one a docstring made from
``inspect.signature(cls)`` while the module is imported: ~0.3 ms a class, and a run's start
imports some 40 dataclasses (26 had none: ~7 ms of each ``runner run``). Read from the source,
so the test imports nothing."""

from __future__ import annotations

import ast

from helpers import ROOT


def _is_dataclass(node: ast.ClassDef) -> bool:
    for d in node.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == "dataclass":
            return True
    return False


def test_every_dataclass_has_its_own_docstring() -> None:
    missing, seen = [], 0
    for path in sorted([*(ROOT / "runner").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and _is_dataclass(node):
                seen += 1
                if ast.get_docstring(node) is None:
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert seen > 50  # the walk finds them
    assert missing == [], "dataclasses without a docstring:\n" + "\n".join(missing)

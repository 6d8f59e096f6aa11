"""``runner.connectors`` is the one place a connector or hook author imports from: its
``__all__`` names what they need, every name is there, and the built-in connectors, the
example third-party one and docs/writing-a-connector.md import from nowhere else in runner."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

import runner.connectors
from runner.connectors.hooks import Hooks
from runner.connectors.http import PreparedCall
from runner.connectors.loading import load_connector
from runner.connectors.response import Response
from runner.connectors.spec import ConnectorSpec
from runner.errors import StepFailed, TransportError, VendorError
from runner.simulator import Simulator

DOC = ROOT / "docs" / "writing-a-connector.md"
AUTHORS = sorted([*(ROOT / "plugins").rglob("*.py"),
                  # connector packages; a secret source (runner-secret-*) has its own door
                  *(ROOT / "tests" / "thirdparty").glob("runner-connector-*/**/*.py")])


def _runner_imports(source: str) -> list[tuple[str, str]]:
    """(module, name) of every ``from runner... import name`` and ``import runner...``."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                node.module.split(".")[0] == "runner":
            out += [(node.module, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(a.name, "") for a in node.names if a.name.split(".")[0] == "runner"]
    return out


def test_all_names_what_an_author_needs_and_each_is_the_real_thing() -> None:
    face = runner.connectors
    for obj in (Hooks, PreparedCall, Response, ConnectorSpec, load_connector, StepFailed,
                VendorError, TransportError, Simulator):
        assert obj.__name__ in face.__all__
        assert getattr(face, obj.__name__) is obj
    for name in face.__all__:
        assert getattr(face, name) is getattr(sys.modules[face._HOME[name]], name)
    assert sorted(face.__all__) == sorted(face._HOME) == sorted(set(face.__all__))
    # the imports the type checker reads name the same objects
    checked = [name for module, name in _runner_imports(Path(face.__file__).read_text())]
    assert sorted(checked) == sorted(face.__all__)
    namespace: dict[str, object] = {}
    exec("from runner.connectors import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(face.__all__)
    with pytest.raises(AttributeError, match="no attribute 'Transport'"):
        face.Transport  # noqa: B018  # not public: the engine's, not an author's


def test_importing_the_face_loads_neither_the_transport_nor_the_simulator() -> None:
    # every runner.connectors.* import runs the package's __init__, runner validate's included
    code = ("import sys, runner.connectors.registry; "
            "print(sorted(m for m in ('urllib3', 'runner.simulator', 'runner.connectors.http',"
            " 'http.server') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("path", AUTHORS, ids=lambda p: str(p.relative_to(ROOT)))
def test_connectors_import_runner_only_from_the_face(path: Path) -> None:
    for module, name in _runner_imports(path.read_text()):
        assert module == "runner.connectors" and name in runner.connectors.__all__, \
            f"{path.relative_to(ROOT)}: from {module} import {name}"


def test_writing_a_connector_imports_only_from_the_face() -> None:
    text = DOC.read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.M | re.S)
    imports = [imp for block in blocks for imp in _runner_imports(block)]
    assert len(imports) >= 4  # the page's examples do import what they use
    for module, name in imports:
        assert module == "runner.connectors" and name in runner.connectors.__all__, \
            f"{DOC.name}: from {module} import {name}"
    # and the prose points at the same place
    for dotted in re.findall(r"`(runner\.[\w.]+)", text):
        assert dotted.split(".")[:2] != ["runner", "simulator"] and \
            not re.match(r"runner\.connectors\.(hooks|http|response|spec)\b", dotted), dotted

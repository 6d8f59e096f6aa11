"""The layers around the connectors, read from the imports (issue 12): an auth scheme never
imports the client (it is a flow the client drives), templating and the path languages sit
below the connectors and import nothing of them, and extraction sits above them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import ROOT

RUNNER = ROOT / "runner"


def runner_imports(path: Path) -> set[str]:
    """Every runner module ``path`` imports, at the top, under TYPE_CHECKING or in a function."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m.split(".")[0] == "runner"}


@pytest.mark.parametrize("name", ["auth", "token_auth", "schemes"])
def test_an_auth_scheme_does_not_import_the_client(name: str) -> None:
    imports = runner_imports(RUNNER / "connectors" / f"{name}.py")
    assert "runner.connectors.client" not in imports
    assert not any(m == "runner.extract" for m in imports), imports


BELOW_THE_CONNECTORS = ["templating", "template_compile", "template_env", "template_names",
                        "template_limits", "template_sizes", "fast_expressions", "jsonpath",
                        "fast_jsonpath", "xpath", "regex", "extract_error", "unsure", "secrets"]


@pytest.mark.parametrize("name", BELOW_THE_CONNECTORS)
def test_templating_and_the_path_languages_import_nothing_above_them(name: str) -> None:
    imports = runner_imports(RUNNER / f"{name}.py")
    climbs = {m for m in imports if m.startswith(("runner.connectors", "runner.extract."))
              or m == "runner.extract"}
    assert not climbs, f"runner/{name}.py imports {sorted(climbs)}"


def test_extraction_reads_a_connector_answer_from_below() -> None:
    assert "runner.connectors.response" in runner_imports(RUNNER / "extract.py")
    for module in runner_imports(RUNNER / "connectors" / "response.py"):
        assert module.startswith("runner.connectors") or module == "runner.errors", module


def test_every_scheme_home_names_an_auth_class_that_does_not_import_the_client() -> None:
    """The scheme tables name their classes by home (``module:Class``, imported when a
    connector uses one: runner/connectors/schemes.py): each resolves, to the class named."""
    from runner.connectors.auth import Auth
    from runner.connectors.chosen_auth import CHOICES
    from runner.connectors.schemes import SCHEMES, scheme, scheme_class

    homes = {*SCHEMES.values(), *(home for home, _ in CHOICES.values())}
    assert "digest_auth:DigestAuth" in homes and "token_auth:LoginTokenAuth" in homes
    for home in homes:
        module, _, name = home.partition(":")
        cls = scheme_class(home)
        assert issubclass(cls, Auth) and cls.__name__ == name, home
        assert cls.__module__ == f"runner.connectors.{module}", home
        assert "runner.connectors.client" not in runner_imports(
            RUNNER / "connectors" / f"{module}.py"), home
    assert scheme("bearer").__name__ == "HeaderAuth"

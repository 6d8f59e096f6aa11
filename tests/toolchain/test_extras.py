"""The extras (issue 16): one table, :data:`runner.extras.EXTRAS`, says which modules each
extra makes importable, and every import of such a module in runner/ and plugins/ comes after
the check of that table (``need()``), so that a missing extra is a message, never an
``ImportError``. Read from the source, as the house tests read it. That the message and its exit
code are what a user without the extra sees is tests/toolchain/test_wheel_install.py's (a venv
that really lacks them)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import tomllib
from helpers import ROOT

from runner.errors import EXIT_NOT_INSTALLED
from runner.extras import EXTRAS, MissingExtra, install_hint, missing, need, requirements

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
OPTIONAL = {m.split(".")[0]: extra for extra, mods in EXTRAS.items() for m in mods}
# imported at the top of a module that is itself imported only after the check
BEHIND = {"runner/ui/app.py": "ui", "runner/store_sqlalchemy.py": "scale",
          "runner/trace_export.py": "traces",  # tracing.start imports it, after need("traces")
          # runner.lsp is imported by api/editing.py only, after need("lsp")
          **{f"runner/lsp/{p.name}": "lsp" for p in (ROOT / "runner" / "lsp").glob("*.py")}}
# a function with a bare import whose one caller checks first, or that does without it
CHECKED_BY_CALLER = {
    **{("runner/tracing.py", f): "runs only once start() has passed need('traces'): a span "
       "exists only when traces are on" for f in ("__init__", "failed", "end", "exchange")},
    ("runner/notify.py", "_apprise"): "_send checks missing('notify') before calling it",
    ("runner/notify_targets.py", "url_problem"): "validate without apprise: the URL is "
    "checked when it is sent (the import is in a try: ImportError)",
}
FILES = sorted([*(ROOT / "runner").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")])


def test_every_extra_of_the_table_is_in_pyproject_and_dev() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert set(EXTRAS) <= set(extras)
    assert f"runner[{','.join(sorted(EXTRAS))}]" in extras["dev"]  # the suite has them all
    core = " ".join(PYPROJECT["project"]["dependencies"]).lower()
    for name in ("celery", "psycopg", "sqlalchemy", "starlette", "uvicorn", "apprise"):
        assert name not in core, f"{name} is an extra's, not core"


def _imports(node: ast.AST) -> list[tuple[int, str]]:
    out = []
    for n in ast.walk(node):
        if isinstance(n, ast.Import):
            out += [(n.lineno, a.name.split(".")[0]) for a in n.names]
        elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
            out.append((n.lineno, n.module.split(".")[0]))
    return [(line, m) for line, m in out if m in OPTIONAL]


def _checks(func: ast.AST) -> dict[str, int]:
    """extra -> the first line of the function that calls need(extra, ...)."""
    out: dict[str, int] = {}
    for n in ast.walk(func):
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "need" and n.args \
                and isinstance(n.args[0], ast.Constant):
            out.setdefault(n.args[0].value, n.lineno)
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_optional_modules_are_imported_after_need(path: Path) -> None:
    name = str(path.relative_to(ROOT))
    tree = ast.parse(path.read_text())
    funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    inside = set()
    wrong = []
    for func in funcs:
        checks = _checks(func)
        for line, module in _imports(func):
            inside.add(line)
            if (name, func.name) in CHECKED_BY_CALLER:
                continue
            extra = OPTIONAL[module]
            if checks.get(extra, line + 1) > line:
                wrong.append(f"{name}:{line}: import {module} without need({extra!r}) before it")
    for line, module in _imports(tree):
        if line not in inside and BEHIND.get(name) != OPTIONAL[module]:
            wrong.append(f"{name}:{line}: import {module} at the top of a module")
    assert not wrong, "\n".join(wrong)


def test_need_names_the_extra_and_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    need("scale", "runner worker")  # the dev install has every extra
    assert missing("ui") == []
    monkeypatch.setitem(EXTRAS, "scale", ("celery", "no_such_module_here"))
    with pytest.raises(MissingExtra) as got:
        need("scale", "runner worker")
    assert got.value.exit_code == EXIT_NOT_INSTALLED == 4
    assert got.value.message == ("runner worker needs the scale extra, which is not installed "
                                 "(no_such_module_here missing)")
    assert "pip install 'runner[scale]'" in (got.value.hint or "")


def test_the_hint_lists_the_extras_requirements_for_pipx() -> None:
    assert requirements("scale") == ["celery[redis]>=5.5", "sqlalchemy>=2.0",
                                     "psycopg[binary]>=3.2"]
    assert install_hint("notify") == ("pip install 'runner[notify]' into runner's environment "
                                      "(with pipx: pipx inject runner 'apprise>=1.9')")

"""The command line is a thin shell over ``runner.api``, the top door; the ops modules sit
under it.

- ``runner/cli/*.py`` import, of runner, only ``runner.api`` (and its modules), their own
  ``runner.cli`` modules, the ``runner`` package (its ``__version__``), and two presentation
  helpers: ``runner.errors`` (the exit codes, and ``InvalidInput`` for a command line that does
  not add up) and ``runner.printable`` (what a server said, made safe for a terminal).
  Nothing else: batches, workers, schedulers, submitting and waiting happen behind the api.
- each command calls one api function on each of its paths: a second call comes only after
  a branch that has ended (exit or return);
- the ops modules (batches, jobs, the Celery side, the scheduler's loop, orphans, resuming)
  never import ``runner.api``: it is above them.

Imports are read from the source (every ``import``, also inside functions).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

ALLOWED = ("runner.api", "runner.cli", "runner.errors", "runner.printable")
OPS = ("batch", "batch_rows", "batch_record", "batch_summary", "batch_resume", "distributed",
       "submit", "jobs", "scheduler", "orphans", "broker_scan", "ownership", "journal",
       "resume", "resume_stale", "launch")
ENDS = {"exit", "exit_as_run", "finish", "_exit_as_submitted"}  # calls that never return
CLI = sorted((ROOT / "runner" / "cli").glob("*.py"))


def runner_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every runner module ``path`` imports; ``from runner import x`` is
    ``runner.x`` (``runner`` alone for its ``__version__``)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "runner":
                out += [(node.lineno, "runner" if a.name.startswith("__") else f"runner.{a.name}")
                        for a in node.names]
            else:
                out.append((node.lineno, node.module))
    return [(n, m) for n, m in out if m == "runner" or m.startswith("runner.")]


def allowed(module: str) -> bool:
    return module == "runner" or any(module == a or module.startswith(a + ".")
                                     for a in ALLOWED)


@pytest.mark.parametrize("path", CLI, ids=lambda p: p.name)
def test_the_cli_imports_only_the_api_of_runner(path: Path) -> None:
    wrong = [f"{path.name}:{line}: {m}" for line, m in runner_imports(path) if not allowed(m)]
    assert not wrong, "the CLI goes through runner.api only:\n" + "\n".join(wrong)


def api_calls(func: ast.AST) -> list[ast.Call]:
    return sorted((n for n in ast.walk(func) if isinstance(n, ast.Call)
                   and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)
                   and n.func.value.id in ("api", "runner.api")), key=lambda n: n.lineno)


def ended(body: list[ast.stmt]) -> bool:
    """The block ends its command: its last statement returns, raises or exits."""
    last = body[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    call = last.value if isinstance(last, ast.Expr) else None
    if isinstance(call, ast.Call):
        f = call.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        return name in ENDS
    return False


@pytest.mark.parametrize("path", CLI, ids=lambda p: p.name)
def test_each_path_of_a_command_calls_one_api_function(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for func in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        calls = api_calls(func)
        branches = [n for n in ast.walk(func) if isinstance(n, ast.If)]
        for call in calls[:-1]:  # every call but the last must sit in a branch that ends
            inside = [b for b in branches if any(c is call for s in b.body for c in ast.walk(s))]
            assert any(ended(b.body) for b in inside), (
                f"{path.name}:{call.lineno}: {func.name} calls runner.api more than once on "
                "one path")


def test_the_ops_modules_never_import_the_api() -> None:
    wrong = []
    for name in OPS:
        path = ROOT / "runner" / f"{name}.py"
        assert path.exists(), path
        wrong += [f"{path.name}:{line}: {m}" for line, m in runner_imports(path)
                  if m == "runner.api" or m.startswith("runner.api.")]
    assert not wrong, "runner.api is above the ops modules:\n" + "\n".join(wrong)


def test_the_api_names_what_it_holds() -> None:
    import runner.api

    assert sorted(runner.api.__all__) == sorted(runner.api._HOME)
    for name in runner.api.__all__:
        assert callable(getattr(runner.api, name)), name
    with pytest.raises(AttributeError):
        _ = runner.api.no_such_verb


def test_validating_through_the_api_loads_neither_the_engine_nor_the_store() -> None:
    code = ("import sys; from runner.api import validate; "
            "print(sorted(m for m in ('runner.engine', 'runner.store', 'sqlalchemy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def test_the_command_table_names_every_command_its_modules_register() -> None:
    code = ("import importlib, sys; from runner.cli.common import COMMANDS, main; "
            "[importlib.import_module(f'runner.cli.{m}') for m in set(COMMANDS.values())]; "
            "print(sorted(main.commands) == sorted(COMMANDS))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "True"


def test_a_command_loads_no_other_commands_module(tmp_path: Path) -> None:
    """``runner validate`` imports its own command module, not run's, history's, worker's..."""
    playbook = tmp_path / "p.yaml"
    playbook.write_text("name: p\nsteps:\n  - id: a\n    assert: 1 == 1\n")
    code = ("import sys; from runner.cli import main\n"
            "try:\n    main(['validate', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('runner.cli.')))")
    out = subprocess.run([sys.executable, "-c", code, str(playbook)], capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout
    assert out.strip().splitlines()[-1] == \
        "['runner.cli.common', 'runner.cli.guard', 'runner.cli.validate']"

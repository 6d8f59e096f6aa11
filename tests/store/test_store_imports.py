"""Issue 14: a command imports what it needs only when it needs it. The default store, a
SQLite file, runs on the stdlib ``sqlite3``: ``runner run`` and ``runner history`` on it never
import SQLAlchemy (its import alone cost more than the command's work); a PostgreSQL URL does.

Each command runs as a user runs it, in a process of its own; what it imported is read from
``sys.modules`` when the process exits."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ROOT

# the CLI as the console script calls it; at exit, whether SQLAlchemy was imported
PROBE = """
import atexit, sys
atexit.register(lambda: print("sqlalchemy imported:", "sqlalchemy" in sys.modules,
                              file=sys.stderr))
from runner.cli import main
main(sys.argv[1:], prog_name="runner")
"""


def _imports_sqlalchemy(tmp_path: Path, *args: str, store: str) -> bool:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "RUNNER_STORE": store})
    assert done.returncode == 0, done.stdout + done.stderr
    said = [ln for ln in done.stderr.splitlines() if ln.startswith("sqlalchemy imported:")]
    assert len(said) == 1, done.stderr
    return said[0].endswith("True")


def _one_step(tmp_path: Path) -> Path:
    playbook = tmp_path / "one.yaml"
    playbook.write_text("name: one step\nsteps:\n  - id: check\n    assert:\n"
                        "      - that: \"1 == 1\"\n")
    return playbook


def test_run_and_history_on_the_default_store_do_not_import_sqlalchemy(tmp_path: Path) -> None:
    store = str(tmp_path / "state" / "runs.db")
    playbook = _one_step(tmp_path)
    assert not _imports_sqlalchemy(tmp_path, "run", str(playbook), "--env", "sandbox",
                                   store=store)
    lookup = ROOT / "tests" / "distributed" / "get_machine.yaml"  # one request, simulated
    assert not _imports_sqlalchemy(tmp_path, "run", str(lookup), "--env", "sandbox",
                                   store=store)
    assert not _imports_sqlalchemy(tmp_path, "history", store=store)


@pytest.fixture()
def pg_store(postgres: str) -> Iterator[str]:
    from tests.distributed.servers import database

    yield from database(postgres)


def test_a_postgresql_store_imports_sqlalchemy(tmp_path: Path, pg_store: str) -> None:
    playbook = _one_step(tmp_path)
    assert _imports_sqlalchemy(tmp_path, "run", str(playbook), "--env", "sandbox",
                               store=pg_store)
    assert _imports_sqlalchemy(tmp_path, "history", store=pg_store)

"""The web stack is imported by ``runner ui`` only: ``runner validate``, ``runner run``,
``runner history`` and ``runner --help`` load neither Starlette, uvicorn nor ``runner.ui``
(their cold start stays as it was). Each command runs in a process of its own; what it
imported is read from ``sys.modules`` when it exits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import PLAYBOOKS

HEAVY = ("starlette", "uvicorn", "anyio", "runner.ui", "runner.api.viewing")
PROBE = f"""
import atexit, json, sys
atexit.register(lambda: print("loaded:", json.dumps([m for m in {HEAVY!r} if m in sys.modules]),
                              file=sys.stderr))
from runner.cli import main
main(sys.argv[1:], prog_name="runner")
"""


def _loaded(tmp_path: Path, *args: str, code: int = 0) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "RUNNER_STORE": str(tmp_path / "runs.db")})
    assert done.returncode == code, done.stdout + done.stderr
    said = [ln for ln in done.stderr.splitlines() if ln.startswith("loaded:")]
    assert len(said) == 1, done.stderr
    return list(json.loads(said[0].removeprefix("loaded:")))


def test_no_other_command_imports_the_web_stack(tmp_path: Path) -> None:
    playbook = PLAYBOOKS / "automatos" / "distribute-package.yaml"
    assert _loaded(tmp_path, "validate", str(playbook)) == []
    assert _loaded(tmp_path, "run", str(playbook), "--env", "sandbox", "-q",
                   "-i", "hostname=NTB1") == []
    assert _loaded(tmp_path, "history") == []
    assert _loaded(tmp_path, "--help") == []


def test_runner_ui_does(tmp_path: Path) -> None:
    # a missing store is refused after the app is loaded: the probe sees what ui imports
    loaded = _loaded(tmp_path, "ui", "--store", str(tmp_path / "none.db"), code=2)
    assert {"starlette", "uvicorn", "runner.ui"} <= set(loaded)

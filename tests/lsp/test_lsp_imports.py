"""pygls is imported by ``runner lsp`` only: ``runner --version``, ``runner validate`` and
``runner run`` load neither pygls, lsprotocol nor ``runner.lsp`` (their cold start stays as it
was). Each command runs in a process of its own; what it imported is read from
``sys.modules`` when it exits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import PLAYBOOKS

HEAVY = ("pygls", "lsprotocol", "cattrs", "runner.lsp", "runner.api.editing")
PROBE = f"""
import atexit, json, sys
atexit.register(lambda: print("loaded:", json.dumps([m for m in {HEAVY!r} if m in sys.modules]),
                              file=sys.stderr))
from runner.cli import main
main(sys.argv[1:], prog_name="runner")
"""


def _loaded(tmp_path: Path, *args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={**os.environ, "RUNNER_STORE": str(tmp_path / "runs.db")})
    assert done.returncode == 0, done.stdout + done.stderr
    said = [ln for ln in done.stderr.splitlines() if ln.startswith("loaded:")]
    assert len(said) == 1, done.stderr
    return list(json.loads(said[0].removeprefix("loaded:")))


def test_no_other_command_imports_pygls(tmp_path: Path) -> None:
    playbook = PLAYBOOKS / "automatos" / "distribute-package.yaml"
    assert _loaded(tmp_path, "--version") == []
    assert _loaded(tmp_path, "validate", str(playbook)) == []
    assert _loaded(tmp_path, "run", str(playbook), "--env", "sandbox", "-q",
                   "-i", "hostname=NTB1") == []


def test_runner_lsp_does(tmp_path: Path) -> None:
    # stdin at its end: the server reads EOF and stops, having loaded what it serves with
    assert {"pygls", "lsprotocol", "runner.lsp"} <= set(_loaded(tmp_path, "lsp"))

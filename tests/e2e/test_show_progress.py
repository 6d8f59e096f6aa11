"""A run that has no report yet (it waits: parked in a ``sleep:``, between polls) shows where it
is: ``runner show`` and ``runner ui`` read its journal and name each step's last state, with
the wake time of the wait, from the run's recorded fingerprint (ids, file:line). Real
processes: a ``runner run`` in the sandbox waiting 60 s, read from another process, then
stopped with SIGTERM (its report recorded: ``show`` gives the report again)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from helpers import RUNNER, cli

from runner.errors import EXIT_OK
from tests.ui.ui_server import serve

PLAYBOOK = """\
name: nap between calls
connectors:
  auto: {use: automatos}
steps:
  - id: login
    auth: auto
  - id: find
    call: auto.get_machine
    with: {hostname: NTB2}
    extract: {machine: "$.data.machines[0].machineId"}
  - id: nap
    sleep: 60s
  - id: after
    call: auto.get_machine
    with: {hostname: NTB2}
"""


def test_a_waiting_run_shows_its_journal_so_far(tmp_path: Path) -> None:
    (tmp_path / "nap.yaml").write_text(PLAYBOOK)
    store = str(tmp_path / "runs.db")
    env = {"RUNNER_STORE": store}
    proc = subprocess.Popen([str(RUNNER), "run", "nap.yaml", "-q"], cwd=tmp_path,
                            env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            listed = cli("history", "--json", cwd=tmp_path, env=env)  # JSON lines
            runs = [json.loads(line) for line in listed.stdout.splitlines()]
            if runs:
                shown = cli("show", runs[0]["run_id"], "--json", cwd=tmp_path, env=env)
                row = json.loads(shown.stdout)
                if any(p["state"] == "parked" for p in row.get("progress") or ()):
                    break
            assert time.monotonic() < deadline and proc.poll() is None, "never parked"
            time.sleep(0.3)
        run_id = row["run_id"]
        assert [(p["step"], p["state"], p["where"]) for p in row["progress"]] == [
            ("login", "passed", "nap.yaml:5"), ("find", "passed", "nap.yaml:7"),
            ("nap", "parked", "nap.yaml:11")]
        until = row["progress"][2]["until"]
        assert 50 < until - time.time() <= 60

        text = cli("show", run_id, cwd=tmp_path, env=env)
        assert text.returncode == EXIT_OK, text.stderr
        lines = text.stdout.splitlines()
        assert "  no report yet (running); its journal so far:" in lines
        wake = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(until))
        assert any(line.split() == ["PASS", "find", "nap.yaml:7"] for line in lines), lines
        assert any(line.split()[:3] == ["WAIT", "nap", "nap.yaml:11"] and
                   line.endswith(f"parked until {wake}") for line in lines), lines

        with serve("--store", store) as url:
            import urllib.request

            with urllib.request.urlopen(f"{url}/runs/{run_id}", timeout=30) as r:
                page = r.read().decode()
        assert 'id="progress"' in page and 'data-state="parked"' in page
        assert "nap.yaml:11" in page and f"until {wake[:-4]} UTC" in page
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    ended = json.loads(cli("show", run_id, "--json", cwd=tmp_path, env=env).stdout)
    assert ended["status"] == "interrupted" and ended["report"] and "progress" not in ended

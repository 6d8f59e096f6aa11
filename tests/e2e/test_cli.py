"""The CLI as a user meets it: connectors, sandbox, Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import requests
from helpers import PLAYBOOKS, ROOT, RUNNER, cli

from runner.errors import EXIT_INTERRUPTED


def test_version_and_connectors() -> None:
    assert cli("--version").stdout.startswith("runner, version")
    out = cli("connectors").stdout
    assert "automatos.create_distribution" in out and "[not safe to repeat]" in out
    assert "auth: token" in out


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(RUNNER), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_sandbox_serves_until_ctrl_c() -> None:
    proc = _start("sandbox", "-c", "automatos")
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]
        url = re.search(r"(http://127\.0\.0\.1:\d+\S*)", "".join(lines))
        assert url, lines
        r = requests.post(url.group(1) + "/auth", json={}, timeout=5)
        assert r.status_code == 400 and r.json() == {"status": False, "data": {},
                                                      "error": "invalid credential"}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert proc.returncode == 0  # stopping is how a sandbox ends, as `runner scheduler`


def test_ctrl_c_during_a_poll_exits_130() -> None:
    proc = _start("run", str(PLAYBOOKS / "automatos" / "distribute-package.yaml"),
                  "-i", "hostname=OFFLINE1")
    assert proc.stdout is not None
    deadline = time.monotonic() + 20
    seen = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen += line
        if "attempt 1" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == EXIT_INTERRUPTED, seen + out + err
    assert "INTERRUPTED" in out
    assert "Traceback" not in out + err


def pin_playbook(tmp_path: Path) -> Path:
    """A playbook with a secret integer input; its assertion fails below 100000."""
    playbook = tmp_path / "pin.yaml"
    playbook.write_text("""\
name: Set a PIN
inputs:
  pin: {type: integer, secret: true}
steps:
  - assert:
      - that: "inputs.pin > 99999"
        message: "the PIN {{ inputs.pin }} is too short"
""")
    return playbook


def test_a_secret_input_of_the_wrong_type_is_refused_without_showing_it(tmp_path: Path) -> None:
    playbook = pin_playbook(tmp_path)
    value = "not-a-number-Sup3rSecret"
    done = cli("run", str(playbook), "-i", f"pin={value}", "--store", str(tmp_path / "r.db"))
    assert done.returncode == 2
    assert "input 'pin' must be an integer, got a value that is not JSON" in done.stderr, \
        done.stderr
    assert value not in done.stdout + done.stderr
    rows = tmp_path / "rows.jsonl"
    rows.write_text(f'{{"pin": "{value}"}}\n')
    report = tmp_path / "summary.json"
    batch = cli("run", str(playbook), "--inputs-from", str(rows), "--report-json", str(report),
                "--store", str(tmp_path / "r.db"))
    assert batch.returncode == 1
    assert value not in batch.stdout + batch.stderr + report.read_text()


def test_python_dash_m_runner_cli_has_every_command() -> None:
    import sys

    done = subprocess.run([sys.executable, "-m", "runner.cli", "worker", "--help"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Execute runs handed over through the broker" in done.stdout


def test_a_secret_input_that_is_not_a_string_is_masked_everywhere(tmp_path: Path) -> None:
    playbook = pin_playbook(tmp_path)
    store, report = tmp_path / "r.db", tmp_path / "r.json"
    done = cli("run", str(playbook), "-i", "pin=48213", "--store", str(store),
               "--report-json", str(report))
    assert done.returncode == 1, done.stdout + done.stderr
    run_id = cli("history", "--store", str(store), "--json").stdout.split('"run_id": "')[1][:22]
    shown = cli("show", run_id, "--store", str(store), "--json").stdout
    for text in (done.stdout, done.stderr, report.read_text(), shown):
        assert "48213" not in text

"""`runner run --report-html / --log-format json / --no-progress` as a user meets them, and the
engine's `loop_started` event."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import FAST, PLAYBOOKS, ROOT, RUNNER, cli
from terminal import on_a_terminal

from runner import api
from runner.progress import CLEAR, LiveProgress
from runner.results import Listener
from runner.sandbox import Sandbox
from runner.secrets import Redactor
from tests.toolchain.test_progress import LOOP, FakeTerminal, frames

HERE = Path(__file__).resolve().parent
LEAKY = HERE / "playbooks" / "leaky.yaml"
DISTRIBUTE = PLAYBOOKS / "automatos" / "distribute-package.yaml"
SANDBOX_ENV = ROOT / "environments" / "sandbox.yaml"


@pytest.fixture(scope="module")
def wired() -> None:
    help_text = cli("run", "--help").stdout
    missing = [o for o in ("--report-html", "--no-progress", "--log-format")
               if o not in help_text]
    assert not missing, f"runner run has lost {', '.join(missing)}"


def test_log_format_json_and_html_report(wired: None, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    proc = cli("run", str(LEAKY), "--log-format", "json", "--report-html", str(html),
               "--store", str(tmp_path / "runs.db"))
    assert proc.returncode == 1, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    assert events[-1]["failed_step"] == "step 'check'"
    page = html.read_text(encoding="utf-8")
    assert 'id="failure"' in page and "Installation of fail-setup.exe failed" in page
    assert "sandbox-" not in page + proc.stdout  # the sandbox's made-up secrets


def _on_a_terminal(*args: str, timeout: float = 60) -> tuple[int, str]:
    """Run ``runner`` with its stdout on a pseudo-terminal; its exit code and output."""
    code, out, _ = on_a_terminal([str(RUNNER), *args], {**os.environ, "TERM": "xterm"},
                                 timeout=timeout)
    return code, out


def test_progress_on_a_terminal_and_no_progress(wired: None, tmp_path: Path) -> None:
    store = str(tmp_path / "runs.db")
    args = [str(DISTRIBUTE), "-i", "hostname=NTB2", "--env", str(SANDBOX_ENV), "--store", store]
    code, live = _on_a_terminal("run", *args)
    assert code == 0, live
    assert CLEAR in live and "wait automatos.distribution_status · attempt" in live
    code, plain = _on_a_terminal("run", *args, "--no-progress")
    assert code == 0, plain
    assert CLEAR not in plain and "...  wait" in plain


def test_the_engine_says_how_long_a_loop_is() -> None:
    assert "loop_started" in vars(Listener)
    term = FakeTerminal()
    red = Redactor()
    box = Sandbox({k: dict(v) for k, v in FAST.items()})
    try:
        api.run(LOOP, listeners=[LiveProgress(red, term, interval=0.02, width=200)], quiet=True,
                redactor=red, sandbox=box, store=False)
    finally:
        box.stop()
    assert any("lookup automatos.get_machine · " in f and "/4 done" in f
               for f in frames(term.getvalue()))

"""`sleep:` waits before the next step: it is checked at validate time, `plan` says it sends
nothing, a run waits at least that long, and Ctrl-C stops the wait at once (a real process,
a real SIGINT): the run is interrupted, exit 130, not left sleeping for its 30 s."""

from __future__ import annotations

import io
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import RUNNER

from runner import api
from runner.errors import PlaybookError
from runner.results import PASSED

PLAYBOOK = """\
name: Wait for the vendor
steps:
  - id: first
    assert: "1 == 1"
  - id: pause
    sleep: {wait}
  - id: after
    assert: "steps.pause is defined"
"""


def _playbook(tmp_path: Path, wait: str) -> Path:
    path = tmp_path / "wait.yaml"
    path.write_text(PLAYBOOK.format(wait=wait))
    return path


def test_a_sleep_is_checked_planned_and_waited(tmp_path: Path) -> None:
    path = _playbook(tmp_path, "200ms")
    [loaded] = api.validate([path])
    assert [s.kind for s in loaded.steps] == ["assert", "sleep", "assert"]
    assert loaded.steps[1].target == "sleep 200ms"

    out = io.StringIO()
    api.plan(path, env="sandbox", stream=out)
    assert "waits 200ms, sends nothing" in out.getvalue()

    result = api.run(path, env="sandbox", stream=io.StringIO(), store=False)
    assert result.status == PASSED, (result.error, result.hint)
    assert result.steps[1].duration_ms >= 200  # at least the wait: a lower bound, not a timing


@pytest.mark.parametrize("wait", ["soon", "-5", "5 days"])
def test_a_sleep_that_is_not_a_duration_is_refused_at_validate(tmp_path: Path,
                                                               wait: str) -> None:
    with pytest.raises(PlaybookError) as e:
        api.validate([_playbook(tmp_path, repr(wait))])
    said = e.value.render()
    assert "wait.yaml:6:12: step 'pause' > sleep" in said, said  # file:line, the step, the key
    assert "30s, 2m, 500ms" in said  # and what to write instead


def test_ctrl_c_stops_a_sleep_at_once(tmp_path: Path) -> None:
    path = _playbook(tmp_path, "30s")
    started = time.monotonic()
    proc = subprocess.Popen([str(RUNNER), "run", str(path), "--store", str(tmp_path / "r.db")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    seen = ""
    while "first" not in seen and time.monotonic() - started < 20:
        seen += proc.stdout.readline()  # the step before the sleep has passed
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, seen + out + err
    assert "INTERRUPTED" in out and "Traceback" not in out + err
    assert time.monotonic() - started < 25  # the 30 s sleep did not run out

"""`approve:` across processes: a `runner run` waits (its status `waiting`), `runner approve`
or `runner reject` from another process sharing the store answers it, showing the unsafe calls
still to come; who and when are recorded; a deadline rejects."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from helpers import RUNNER, cli

from runner import api
from runner.callback_inbox import rows
from runner.store import Store

PLAYBOOK = """\
name: approval
inputs:
  code: {type: string, default: onboard-ada}
  token: {type: string, secret: true, default: s3cr3t-t0ken-value}
connectors:
  era: {use: era}
steps:
  - id: look
    call: era.list_channels
  - id: go
    approve: "Create the channel {{ inputs.code }}?"
    deadline: DEADLINE
  - id: make
    call: era.create_channel
    with: {code: "{{ inputs.code }}", type: im, url: "https://chat.example/h",
           token_remote: "{{ inputs.token }}"}
finally:
  - id: tidy
    call: era.list_channels
"""


def playbook(tmp_path: Path, deadline: str = "2m") -> Path:
    path = tmp_path / "approval.yaml"
    path.write_text(PLAYBOOK.replace("DEADLINE", deadline))
    return path


def start(tmp_path: Path, db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([str(RUNNER), "run", str(playbook(tmp_path)), "--store", str(db),
                             "--no-progress"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=dict(os.environ))


def waiting_run(db: Path, proc: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if db.exists():
            found = api.history(store=str(db), limit=5)
            if found and found[0]["status"] == "waiting":
                return str(found[0]["run_id"])
        assert proc.poll() is None, proc.communicate()[0]
        time.sleep(0.1)
    raise AssertionError("the run never waited")


def test_approved_from_another_process_it_goes_on_and_says_who(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    proc = start(tmp_path, db)
    run_id = waiting_run(db, proc)
    shown = cli("approve", run_id, "--store", str(db), "--show")
    assert shown.returncode == 0, shown.stderr
    assert "Create the channel onboard-ada?" in shown.stdout
    assert "POST /rest/v1/service/integration_points" in shown.stdout  # the unsafe call
    assert "list_channels" not in shown.stdout and "GET" not in shown.stdout  # safe ones not
    assert "s3cr3t-t0ken-value" not in shown.stdout and "***" in shown.stdout
    assert "approved by" not in shown.stdout  # --show answers nothing
    time.sleep(0.8)
    assert api.history(store=str(db), limit=1)[0]["status"] == "waiting"
    said = cli("approve", run_id, "--store", str(db), "--as", "alice")
    assert said.returncode == 0 and "approved by alice" in said.stdout, said.stderr
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "waiting for approval: runner approve " + run_id in out
    store = Store(str(db))
    assert store.get_run(run_id)["status"] == "passed"  # type: ignore[index]
    answer = [r for e in store.entries(run_id) if e.event == "waiting"
              for r in rows(store, run_id, e.step_key, "approval")]
    assert [(a.status, a.data["by"]) for a in answer] == [("approved", "alice")]
    assert abs(answer[0].data["at"] - time.time()) < 60
    again = cli("approve", run_id, "--store", str(db))
    assert again.returncode == 2 and "not waiting for an approval" in again.stderr


def test_rejected_it_fails_there_and_the_finally_steps_run(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    proc = start(tmp_path, db)
    run_id = waiting_run(db, proc)
    said = cli("reject", run_id, "--store", str(db), "--as", "bob")
    assert said.returncode == 0 and "rejected by bob" in said.stdout, said.stderr
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1, out
    record = Store(str(db)).get_run(run_id)
    assert record is not None and record["status"] == "failed"
    assert "rejected by bob at " in record["error"] and record["failed_step"] == "step 'go'"
    steps = json.loads(cli("show", run_id, "--store", str(db), "--json").stdout)["report"][
        "steps"]
    assert [s["status"] for s in steps] == ["passed", "failed", "passed"]  # make never ran


def test_no_answer_by_the_deadline_rejects(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    result = api.run(playbook(tmp_path, "1s"), store=str(db), quiet=True)
    assert result.status == "failed"
    assert "not approved within 1s: rejected by its deadline" in (result.error or "")
    store = Store(str(db))
    key = next(e.step_key for e in store.entries(result.run_id) if e.event == "waiting")
    assert [(r.status, r.data["by"]) for r in rows(store, result.run_id, key, "approval")] == \
        [("rejected", "deadline")]
    late = cli("approve", result.run_id, "--store", str(db))
    assert late.returncode == 2


def test_approving_an_unknown_run_says_so(tmp_path: Path) -> None:
    said = cli("approve", "nope", "--store", str(tmp_path / "runs.db"))
    assert said.returncode == 2 and "no run nope" in said.stderr

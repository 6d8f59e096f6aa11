"""What a later step reads comes back from the journal on resume: extracted values,
``steps.<id>`` (its ``response`` too), skipped steps as skipped, and ``response`` itself — over a
real SIGKILL of `runner run` between a poll and the assert that reads its answer, and in
process with every restored step checked."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ROOT, RUNNER, automatos_env, cli
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner import api
from runner.simulator_faults import Faults
from runner.store import Store

PLAYBOOK = ROOT / "tests" / "playbooks" / "automatos" / "read-after-poll.yaml"
IDS = ["machine", "job", "wait", "never", "again", "check"]


@pytest.fixture()
def sim() -> Iterator[AutomatosSimulator]:
    with AutomatosSimulator(schedule_seconds=1.0, run_seconds=1.0) as s:
        yield s


def wait_for_entry(store: Path, key: str, event: str, timeout: float = 30) -> str:
    """The run id once its journal has ``event`` for step ``key``."""
    deadline = time.monotonic() + timeout
    db = Store(str(store))
    try:
        while time.monotonic() < deadline:
            for row in db.find_runs():
                if any(e.step_key == key and e.event == event for e in db.entries(row["run_id"])):
                    return str(row["run_id"])
            time.sleep(0.05)
    finally:
        db.close()
    raise AssertionError(f"no {event} entry for {key} after {timeout} s")


def test_sigkill_between_the_poll_and_the_assert_then_resume_passes(
        tmp_path: Path, sim: AutomatosSimulator) -> None:
    store = tmp_path / "runs.db"
    env = automatos_env(tmp_path, sim)
    secrets = {"AUTOMATOS_KEY": sim.automatos_key}
    proc = subprocess.Popen(
        [str(RUNNER), "run", str(PLAYBOOK), "--env", str(env), "--store", str(store)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, **secrets})
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the poll has begun: the machine lookup is done
            if "attempt 1" in proc.stdout.readline():
                break
        # the lookup in the loop after the poll now hangs, so the kill lands after the poll
        sim.faults = Faults(latency=20.0, only={"get_machine"})
        wait_for_entry(store, "steps/3", "finished")  # the poll, then the skipped step, ended
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    sim.faults = Faults()
    assert sim.calls["create_distribution"] == 1
    run_id = wait_for_entry(store, "steps/2", "finished", timeout=1)
    row = Store(str(store)).get_run(run_id)
    assert row is not None and row["status"] == "running"  # killed: nobody closed it

    resumed = cli("resume", run_id, "--store", str(store), "--force", env=secrets)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert sim.calls["create_distribution"] == 1  # never sent twice
    final = Store(str(store)).get_run(run_id)
    assert final is not None and final["status"] == "passed"
    steps = final["report"]["steps"]
    assert [(s["id"], s["status"], bool(s.get("resumed"))) for s in steps] == [
        ("machine", "passed", True), ("job", "passed", True), ("wait", "passed", True),
        ("never", "skipped", True), ("again", "passed", False), ("check", "passed", False)]
    assert final["outputs"] == {"job": sim.distributions[0]["jobName"], "delivered": "Y"}


def test_resume_restores_every_value_steps_entry_and_skipped_step(
        tmp_path: Path, sim: AutomatosSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    store = str(tmp_path / "runs.db")
    env = str(automatos_env(tmp_path, sim))
    monkeypatch.setenv("AUTOMATOS_KEY", sim.automatos_key)
    first = api.run(PLAYBOOK, env=env, inputs={"expect": "N"}, store=store, quiet=True)
    assert first.status == "failed" and first.failed_step == "step 'check'", first.error
    job_name = sim.distributions[0]["jobName"]
    machine_id = sim.distributions[0]["machineId"]

    again = api.resume(first.run_id, store=store, inputs={"expect": "Y"}, quiet=True)
    assert again.status == "passed", (again.error, again.hint)
    assert sim.calls["create_distribution"] == 1
    assert [s.step_id for s in again.steps] == IDS
    by_id = {s.step_id: s for s in again.steps}
    assert [s.resumed for s in again.steps] == [True, True, True, True, True, False]
    assert [s.status for s in again.steps] == ["passed", "passed", "passed", "skipped",
                                               "passed", "passed"]
    assert by_id["never"].skipped_reason == "when: False"
    assert by_id["machine"].extracted == {"machine_id": machine_id}
    assert by_id["job"].extracted == {"job_name": job_name}
    assert by_id["wait"].extracted == {}
    assert again.outputs == {"job": job_name, "delivered": "Y"}
    assert [a["passed"] for a in by_id["check"].assertions] == [True] * 7
    assert by_id["again"].extracted == {}
    # nothing was sent again: the lookups of the first attempt only (the loop passed there)
    assert sim.calls["get_machine"] == 2 and sim.calls["auth"] == 1


ECHO = """\
name: An answer that echoes a secret input
inputs:
  pkg: {type: string, secret: true}
  expect: {type: string}
connectors:
  automatos: {use: automatos}
steps:
  - id: machine
    call: automatos.get_machine
    with: {hostname: NTB2}
    extract: {machine_id: "$.data.machines[0].machineId"}
  - id: job
    call: automatos.create_distribution
    with: {machineId: "{{ machine_id }}", package: "{{ inputs.pkg }}"}
    extract: {job_name: $.data.jobName}
  - id: wait
    poll-until: "response.json.data.delivered == 'N'"
    call: automatos.distribution_status
    with: {jobName: "{{ job_name }}"}
    every: 0.2s
    timeout: 30s
  - id: check
    assert:
      - that: "inputs.expect == 'go'"
      - that: "response.json.data.error == 'Installation of ***' ~ ' failed'"
"""


def test_a_restored_answer_is_the_redacted_one(tmp_path: Path, sim: AutomatosSimulator,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret the vendor echoes in an answer is journaled masked; a resumed step that reads
    it from the restored answer reads the mask, never the secret."""
    pb = tmp_path / "echo.yaml"
    pb.write_text(ECHO)
    store = str(tmp_path / "runs.db")
    env = str(automatos_env(tmp_path, sim))
    monkeypatch.setenv("AUTOMATOS_KEY", sim.automatos_key)
    pkg = "fail-Zq81xKp"  # the simulator answers "Installation of fail-Zq81xKp failed"
    first = api.run(pb, env=env, inputs={"expect": "stop", "pkg": pkg}, store=store, quiet=True)
    assert first.status == "failed" and first.failed_step == "step 'check'", first.error
    db = Store(store)
    finished = {e.step_key: e.data for e in db.entries(first.run_id) if e.event == "finished"}
    db.close()
    poll = finished["steps/2"]
    assert poll["steps_response"] is True and poll["steps"] == {}
    assert poll["response"]["status"] == 200 and poll["response"]["dropped_bytes"] == 0
    assert "Installation of *** failed" in poll["response"]["body"]
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("runs.db*"))
    assert pkg.encode() not in stored
    again = api.resume(first.run_id, store=store, inputs={"expect": "go", "pkg": pkg},
                       quiet=True)
    assert again.status == "passed", again.error
    assert sim.calls["create_distribution"] == 1


def test_the_journal_keeps_what_each_step_kind_leaves(tmp_path: Path, sim: AutomatosSimulator,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    store = str(tmp_path / "runs.db")
    env = str(automatos_env(tmp_path, sim))
    monkeypatch.setenv("AUTOMATOS_KEY", sim.automatos_key)
    first = api.run(PLAYBOOK, env=env, inputs={"expect": "N"}, store=store, quiet=True)
    assert first.status == "failed"
    db = Store(store)
    finished = {e.step_key: (e.status, e.data) for e in db.entries(first.run_id)
                if e.event == "finished"}
    db.close()
    status, machine = finished["steps/0"]
    assert status == "passed" and machine["steps_response"] is True
    assert machine["steps"] == {"machine_id": machine["defined"]["machine_id"]}
    assert machine["response"]["method"] == "GET" and machine["response"]["error"] is None
    assert machine["response"]["url"].endswith("/machine?hostname=NTB2")
    status, never = finished["steps/3"]
    assert (status, never["steps"], never["skipped_reason"]) == ("skipped", None, "when: False")
    assert "response" not in never and "steps_response" not in never
    status, loop = finished["steps/4"]
    assert (status, loop["steps"]) == ("passed", {"iterations": ["passed"]})
    assert "response" not in loop  # the loop's answers stay in the loop
    status, check = finished["steps/5"]
    assert status == "failed" and check["steps"] is None

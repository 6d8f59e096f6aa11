"""A playbook edited between a run and its resume: refused with what changed, or (--remap)
carried over step by step by id and content; the create is never sent twice. A worker whose
checkout differs from the submitter's does not run the run, and records why."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import automatos_env, cli
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner.fingerprint import fingerprint
from runner.jobs import RunJob, execute_job
from runner.playbook import load_playbook
from runner.store import Store

PLAYBOOK = """\
name: Edited between attempts
inputs:
  until: {type: string, default: "Y"}
connectors:
  automatos: {use: automatos}
steps:
  - id: machine
    call: automatos.get_machine
    with: {hostname: NTB2}
    extract: {machine_id: "$.data.machines[0].machineId"}
  - id: job
    call: automatos.create_distribution
    with: {machineId: "{{ machine_id }}", package: 7zip.exe}
    extract: {job_name: $.data.jobName}
  - id: wait
    poll-until: "response.json.data.delivered == inputs.until"
    call: automatos.distribution_status
    with: {jobName: "{{ job_name }}"}
    every: 0.2s
    max-attempts: 2
outputs:
  job: "{{ job_name }}"
"""
PROBE = """\
  - id: probe
    call: automatos.get_machine
    with: {hostname: NTB1}
"""


@pytest.fixture()
def sim() -> Iterator[AutomatosSimulator]:
    with AutomatosSimulator(schedule_seconds=0.1, run_seconds=0.1) as s:
        yield s


def failed_run(tmp_path: Path, sim: AutomatosSimulator) -> tuple[Path, Path, Path, str]:
    """A run whose create went out and whose poll then failed (wrong input): resumable."""
    pb, store = tmp_path / "edited.yaml", tmp_path / "runs.db"
    pb.write_text(PLAYBOOK)
    env = automatos_env(tmp_path, sim)
    first = cli("run", str(pb), "--env", str(env), "-i", "until=never", "--store", str(store),
                env={"AUTOMATOS_KEY": sim.automatos_key})
    assert first.returncode == 1, first.stdout + first.stderr
    assert sim.calls["create_distribution"] == 1
    rows = Store(str(store)).find_runs()
    assert len(rows) == 1 and rows[0]["failed_step"] == "step 'wait'"
    return pb, store, env, str(rows[0]["run_id"])


def test_resume_of_a_playbook_with_a_step_inserted_is_refused(tmp_path: Path,
                                                              sim: AutomatosSimulator) -> None:
    pb, store, _env, run_id = failed_run(tmp_path, sim)
    before = Store(str(store)).get_run(run_id)
    pb.write_text(PLAYBOOK.replace("  - id: job\n", PROBE + "  - id: job\n"))
    again = cli("resume", run_id, "--store", str(store), "-i", "until=Y",
                env={"AUTOMATOS_KEY": sim.automatos_key})
    assert again.returncode == 2, again.stdout + again.stderr
    text = again.stdout + again.stderr
    assert f"run {run_id} was started from another version of {pb}" in text
    assert f"{pb} changed" in text
    assert f"step 'probe' was added ({pb}:11)" in text
    assert f"step 'job' moved from steps/1 to steps/2 ({pb}:14)" in text
    assert f"step 'wait' moved from steps/2 to steps/3 ({pb}:18)" in text
    assert "step 'machine'" not in text  # it did not change
    assert "--remap" in text and "Traceback" not in text
    assert sim.calls["create_distribution"] == 1
    assert sim.calls["get_machine"] == 1  # nothing was sent
    after = Store(str(store)).get_run(run_id)
    assert after is not None and before is not None
    assert (after["status"], after["error"], after["owner"]) == \
        (before["status"], before["error"], before["owner"])  # left as it was: not claimed


def test_remap_carries_finished_steps_by_id_and_never_resends_the_create(
        tmp_path: Path, sim: AutomatosSimulator) -> None:
    pb, store, _env, run_id = failed_run(tmp_path, sim)
    job = sim.distributions[0]["jobName"]
    pb.write_text(PLAYBOOK.replace("  - id: job\n", PROBE + "  - id: job\n"))
    again = cli("resume", run_id, "--store", str(store), "-i", "until=Y", "--remap",
                env={"AUTOMATOS_KEY": sim.automatos_key})
    assert again.returncode == 0, again.stdout + again.stderr
    assert sim.calls["create_distribution"] == 1  # counted by the vendor: once
    assert sim.calls["get_machine"] == 2  # the first run's lookup, and the new probe's
    final = Store(str(store)).get_run(run_id)
    assert final is not None and final["status"] == "passed"
    assert final["outputs"] == {"job": job}
    steps = [(s["id"], bool(s.get("resumed"))) for s in final["report"]["steps"]]
    assert steps == [("machine", True), ("probe", False), ("job", True), ("wait", False)]
    # the record now says what it was finished from: resuming it again compares with that
    assert final["fingerprint"] == fingerprint(load_playbook(pb))


def test_remap_refuses_when_the_create_itself_changed(tmp_path: Path,
                                                      sim: AutomatosSimulator) -> None:
    pb, store, _env, run_id = failed_run(tmp_path, sim)
    pb.write_text(PLAYBOOK.replace("package: 7zip.exe", "package: other.exe"))
    again = cli("resume", run_id, "--store", str(store), "-i", "until=Y", "--remap",
                env={"AUTOMATOS_KEY": sim.automatos_key})
    assert again.returncode == 2, again.stdout + again.stderr
    assert "cannot be resumed with --remap: step 'job' sent a request not safe to repeat" \
        in again.stdout + again.stderr
    assert f"step 'job' changed ({pb}:11)" in again.stdout + again.stderr
    assert sim.calls["create_distribution"] == 1


def test_a_comment_is_not_a_change(tmp_path: Path, sim: AutomatosSimulator) -> None:
    pb, store, _env, run_id = failed_run(tmp_path, sim)
    pb.write_text("# reviewed\n" + PLAYBOOK.replace("  - id: job\n", "  # the create\n"
                                                    "  - id: job\n"))
    again = cli("resume", run_id, "--store", str(store), "-i", "until=Y",
                env={"AUTOMATOS_KEY": sim.automatos_key})
    assert again.returncode == 0, again.stdout + again.stderr
    assert sim.calls["create_distribution"] == 1


def test_a_worker_whose_checkout_differs_does_not_run_the_run(tmp_path: Path,
                                                              sim: AutomatosSimulator,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """The submitter recorded the run from its checkout; the worker's copy has an extra step:
    the worker (execute_job, what `runner worker` runs per message) records why and sends
    nothing."""
    pb = tmp_path / "edited.yaml"
    pb.write_text(PLAYBOOK)
    env = automatos_env(tmp_path, sim)
    monkeypatch.setenv("AUTOMATOS_KEY", sim.automatos_key)
    db = Store(str(tmp_path / "runs.db"))
    try:
        assert db.create_run("20261201-000000-aaaaaa", "Edited", str(pb), str(env), {},
                             status="queued", fingerprint=fingerprint(load_playbook(pb)))
        pb.write_text(PLAYBOOK.replace("  - id: job\n", PROBE + "  - id: job\n"))
        job = RunJob("20261201-000000-aaaaaa", str(pb), str(env), {})
        assert execute_job(db, job) == "failed"
        row = db.get_run(job.run_id)
        assert row is not None and row["status"] == "failed"
        assert f"was not run: this worker's copy of {pb} differs" in row["error"]
        assert "step 'probe' was added" in row["error"]
        assert "update this worker's" in row["hint"]
        assert sum(sim.calls.values()) == 0  # nothing sent
        assert db.entries(job.run_id) == []
        # once the checkout is the submitter's again, the run can be resumed
        pb.write_text(PLAYBOOK)
        done = cli("resume", job.run_id, "--store", str(tmp_path / "runs.db"),
                   env={"AUTOMATOS_KEY": sim.automatos_key})
        assert done.returncode == 0, done.stdout + done.stderr
        assert sim.calls["create_distribution"] == 1
        assert json.loads(cli("show", job.run_id, "--store", str(tmp_path / "runs.db"),
                              "--json").stdout)["status"] == "passed"
    finally:
        db.close()

"""A killed batch: `runner run --inputs-from` SIGKILLed mid-way, then `runner resume --batch ID`
ends every row exactly once, with no create sent twice (counted by the simulator); running the
same file again says which rows already ran and sends nothing; a row whose create has an
unknown outcome is listed, not re-sent."""

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

from runner.simulator_faults import Faults
from runner.store import Store

PLAYBOOK = ROOT / "tests" / "playbooks" / "automatos" / "short-timeouts.yaml"
ROWS = 6


@pytest.fixture()
def sim() -> Iterator[AutomatosSimulator]:
    with AutomatosSimulator(schedule_seconds=0.6, run_seconds=0.6) as s:
        yield s


def batch_runs(store: Path, batch_id: str) -> list[dict]:
    db = Store(str(store))
    try:
        return db.batch_runs(batch_id)
    finally:
        db.close()


def created(store: Path, run_id: str) -> bool:
    """The run's create (step 2, steps/1) has ended in the journal."""
    db = Store(str(store))
    try:
        return any(e.step_key == "steps/1" and e.event == "finished" for e in db.entries(run_id))
    finally:
        db.close()


def test_sigkill_mid_batch_then_resume_batch_ends_every_row_once(tmp_path: Path,
                                                                sim: AutomatosSimulator) -> None:
    store = tmp_path / "runs.db"
    env = automatos_env(tmp_path, sim)
    secrets = {"AUTOMATOS_KEY": sim.automatos_key}
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"hostname": "NTB2"}\n' * ROWS)
    proc = subprocess.Popen(
        [str(RUNNER), "run", str(PLAYBOOK), "--inputs-from", str(rows), "-c", "2", "--env",
         str(env), "--store", str(store)], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True, env={**os.environ, **secrets})
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("batch b") and f"{ROWS} rows from {rows}" in first, first
        batch_id = first.split()[1].rstrip(":")
        assert f"runner resume --batch {batch_id}" in first
        # kill once two rows passed and the rows under way are polling (their create answered)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = batch_runs(store, batch_id)
            running = [r for r in runs if r["status"] == "running"]
            if sum(r["status"] == "passed" for r in runs) >= 2 and running and \
                    all(created(store, r["run_id"]) for r in running):
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    before = batch_runs(store, batch_id)
    assert [r["batch_row"] for r in before] == list(range(ROWS))  # every row recorded at start
    statuses = [r["status"] for r in before]
    assert "passed" in statuses and "running" in statuses, statuses
    creates = sim.calls["create_distribution"]
    assert creates == sum(created(store, r["run_id"]) for r in before)

    resumed = cli("resume", "--batch", batch_id, "--store", str(store), "--force", env=secrets,
                  timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Traceback" not in resumed.stderr
    assert f"batch {batch_id}: {ROWS} rows:" in resumed.stdout
    for r in before:
        said = "passed before" if r["status"] == "passed" else "resumed: passed"
        assert f"row {r['batch_row'] + 1}  {r['run_id']}  {said}" in resumed.stdout
    after = batch_runs(store, batch_id)
    assert [r["status"] for r in after] == ["passed"] * ROWS
    assert [r["run_id"] for r in after] == [r["run_id"] for r in before]  # the same runs
    assert sim.calls["create_distribution"] == ROWS  # every row created exactly once
    jobs = [r["outputs"]["job"] for r in after]
    assert sorted(jobs) == sorted(d["jobName"] for d in sim.distributions)
    assert len(set(jobs)) == ROWS

    again = cli("run", str(PLAYBOOK), "--inputs-from", str(rows), "--env", str(env),
                "--store", str(store), env=secrets)
    assert again.returncode == 0, again.stdout + again.stderr
    for r in after:
        assert (f"row {r['batch_row'] + 1}  already ran  {r['run_id']}  passed in batch "
                f"{batch_id}") in again.stdout
    assert f"{ROWS} already ran" in again.stdout
    assert sim.calls["create_distribution"] == ROWS  # nothing sent again
    forced = cli("run", str(PLAYBOOK), "--inputs-from", str(rows), "--env", str(env),
                 "--store", str(store), "--again", env=secrets)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert sim.calls["create_distribution"] == 2 * ROWS  # --again: asked for, so sent


def test_resume_batch_lists_a_row_with_an_unknown_outcome_and_sends_nothing(
        tmp_path: Path, sim: AutomatosSimulator) -> None:
    store = tmp_path / "runs.db"
    env = automatos_env(tmp_path, sim)
    secrets = {"AUTOMATOS_KEY": sim.automatos_key}
    rows = tmp_path / "rows.csv"
    rows.write_text("hostname\nNTB2\nNTB2\nNTB2\n")
    sim.faults = Faults(drop_after=1.0, only={"create_distribution"}, count=1)
    first = cli("run", str(PLAYBOOK), "--inputs-from", str(rows), "-c", "1", "--env", str(env),
                "--store", str(store), env=secrets)
    assert first.returncode == 1, first.stdout + first.stderr
    batch_id = first.stdout.split()[1].rstrip(":")
    runs = batch_runs(store, batch_id)
    assert [r["status"] for r in runs] == ["failed", "passed", "passed"]
    assert sim.calls["create_distribution"] == 3

    resumed = cli("resume", "--batch", batch_id, "--store", str(store), env=secrets)
    assert resumed.returncode == 1, resumed.stdout + resumed.stderr
    assert (f"row 1  {runs[0]['run_id']}  outcome unknown: a request not safe to repeat "
            "(steps/1) was sent and no answer came back; it is not sent again") in resumed.stdout
    assert f"row 2  {runs[1]['run_id']}  passed before" in resumed.stdout
    assert "1 outcome unknown, 2 passed before" in resumed.stdout
    assert "check on the vendor's side" in resumed.stdout
    assert sim.calls["create_distribution"] == 3  # not re-sent


def test_resume_batch_of_an_unknown_batch_and_wrong_arguments(tmp_path: Path) -> None:
    store = str(tmp_path / "runs.db")
    missing = cli("resume", "--batch", "b-nope", "--store", store)
    assert missing.returncode == 2 and "no batch b-nope in the run store" in missing.stderr
    both = cli("resume", "R1", "--batch", "b1", "--store", store)
    assert both.returncode == 2 and "give one of RUN_ID, --batch ID or --stale" in both.stderr
    neither = cli("resume", "--store", store)
    assert neither.returncode == 2 and "give one of RUN_ID, --batch ID or --stale" in neither.stderr
    remap = cli("resume", "--batch", "b1", "--remap", "--store", store)
    assert remap.returncode == 2 and "--remap goes with one RUN_ID" in remap.stderr

"""`runner resume --stale` on the default SQLite store without a broker: a `runner run`
SIGKILLed mid-poll is resumed (its create not sent again); the options that do not go with it;
and a resume that cannot start (a secret input the store kept masked) leaves the run failed,
not running for nobody."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import PLAYBOOKS, ROOT, RUNNER, automatos_env, cli
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner.journal import ResumeState
from runner.store import Store

DISTRIBUTE = str(PLAYBOOKS / "automatos" / "distribute-package.yaml")


def test_a_killed_run_is_resumed_by_resume_stale(tmp_path: Path) -> None:
    store = Store(os.environ["RUNNER_STORE"])  # the default store of this test (conftest)
    with AutomatosSimulator(schedule_seconds=1.0, run_seconds=1.0) as sim:
        env, key = automatos_env(tmp_path, sim), {"AUTOMATOS_KEY": sim.automatos_key}
        assert cli("resume", "--stale", env=key).stdout.startswith("no stale runs")
        proc = subprocess.Popen([str(RUNNER), "run", DISTRIBUTE, "--env", str(env), "-q",
                                 "-i", "hostname=NTB2"], cwd=ROOT, env={**os.environ, **key},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not (rows := store.find_runs(status="running")) or \
                "steps/2" not in ResumeState.load(store, rows[0]["run_id"]).finished:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)  # killed in its poll, after the create
        proc.wait(10)
        run_id = rows[0]["run_id"]
        young = cli("resume", "--stale", env=key)  # its heartbeat is not 30 s old yet
        assert young.returncode == 0 and young.stdout.startswith("no stale runs"), young.stdout
        time.sleep(1.1)
        done = cli("resume", "--stale", "--stale-after", "1", env=key, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.splitlines() == [f"run {run_id} (was running): passed",
                                            "1 stale run(s): 1 passed, 0 not"]
        assert sim.calls["create_distribution"] == 1
    assert (store.get_run(run_id) or {})["status"] == "passed"
    store.close()


def test_resume_stale_options() -> None:
    bare = cli("resume")
    assert bare.returncode == 2 and "give one of RUN_ID, --batch ID or --stale" in bare.stderr
    both = cli("resume", "RUN", "--stale")
    assert both.returncode == 2 and "give one of RUN_ID, --batch ID or --stale" in both.stderr
    forced = cli("resume", "--stale", "--force")
    assert forced.returncode == 2 and "not with --force" in forced.stderr


def test_a_resume_that_cannot_start_leaves_the_run_failed_not_running(tmp_path: Path) -> None:
    playbook = tmp_path / "pin.yaml"
    playbook.write_text("""\
name: Needs a PIN
inputs:
  pin: {type: string, secret: true}
  ok: {type: boolean, default: false}
steps:
  - id: check
    assert:
      - that: "inputs.ok"
        message: not ok yet
""")
    first = cli("run", str(playbook), "-i", "pin=4711")
    assert first.returncode == 1, first.stdout + first.stderr
    store = Store(os.environ["RUNNER_STORE"])
    (row,) = store.find_runs()
    again = cli("resume", row["run_id"])  # the PIN is not in the store
    assert again.returncode == 2 and "missing input 'pin'" in again.stderr, again.stderr
    after = store.get_run(row["run_id"]) or {}
    assert after["status"] == "failed" and "missing input 'pin'" in after["error"]
    assert "4711" not in str(after)
    ok = cli("resume", row["run_id"], "-i", "pin=4711", "-i", "ok=true")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    store.close()


SLOW = """\
name: Waits for a while
connectors:
  automatos: {use: automatos}
steps:
  - id: machine
    call: automatos.get_machine
    with: {hostname: NTB2}
  - id: wait
    poll-until: "false"
    call: automatos.get_machine
    with: {hostname: NTB2}
    every: 0.2s
    timeout: 60s
"""


@pytest.mark.parametrize("how", ["stale", "batch"])
def test_a_bulk_resume_that_refuses_a_run_says_what_to_do(tmp_path: Path, how: str) -> None:
    """A run SIGKILLed mid-poll, then its playbook edited: `runner resume --stale` (and
    `--batch`) refuse it as `runner resume RUN_ID` does, and say what to do about it (the
    hint naming --remap), not only what is wrong."""
    store_path = tmp_path / "runs.db"
    playbook = tmp_path / "slow.yaml"
    playbook.write_text(SLOW)
    rows = tmp_path / "rows.jsonl"
    rows.write_text("{}\n")
    with AutomatosSimulator() as sim:
        env, key = automatos_env(tmp_path, sim), {"AUTOMATOS_KEY": sim.automatos_key}
        batch = ["--inputs-from", str(rows)] if how == "batch" else []
        proc = subprocess.Popen([str(RUNNER), "run", str(playbook), "--env", str(env),
                                 "--store", str(store_path), *batch], cwd=ROOT,
                                env={**os.environ, **key}, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        try:
            deadline = time.monotonic() + 30
            while sim.calls["get_machine"] < 3:  # in the poll: the lookup is journaled
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.02)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=10)
        playbook.write_text(SLOW.replace("steps:\n", "steps:\n  - id: first\n    call: "
                                         "automatos.get_machine\n    with: {hostname: NTB2}\n"))
        store = Store(str(store_path))
        (row,) = store.find_runs()
        store.close()
        time.sleep(1.1)
        args = ["--stale", "--stale-after", "1"] if how == "stale" else \
            ["--batch", row["batch_id"], "--force"]
        done = cli("resume", *args, "--store", str(store_path), env=key, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "not resumed" in done.stdout and "step 'first' was added" in done.stdout, done.stdout
    assert "hint: undo the change and resume; or resume with --remap" in done.stdout, done.stdout

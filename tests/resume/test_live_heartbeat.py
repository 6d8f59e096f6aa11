"""A run that waits longer than the stale threshold in a LIVE process keeps looking alive: its
process's heartbeat (runner.heartbeats) refreshes it while it waits, so `runner resume --stale`
in another process (and the workers' orphan sweep) leaves it alone; the same run SIGKILLed is
taken, and resumed without its create sent again. Real processes, the real SQLite file and the
machine's real PostgreSQL.

The poll waits 20 s between attempts; the other process asks with `--stale-after 10` 12 s
into that wait, when nothing of the run has written to the journal for more than 10 s."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import ROOT, RUNNER, automatos_env, cli
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner.journal import ResumeState
from runner.orphans import find_orphans
from runner.store import Store

LONG_POLL = """\
name: Waits long between polls
inputs:
  hostname: {type: string, default: NTB2}
connectors:
  automatos: {use: automatos}
steps:
  - auth: automatos
  - id: machine
    call: automatos.get_machine
    with: {hostname: "{{ inputs.hostname }}"}
    extract:
      machine_id: "$.data.machines[?(@.department == 'DEV')].machineId"
  - id: job
    call: automatos.create_distribution
    with: {machineId: "{{ machine_id }}", package: 7zip.exe}
    extract: {job_name: $.data.jobName}
  - id: wait
    poll-until: "response.json.data.delivered == 'Y'"
    call: automatos.distribution_status
    with: {jobName: "{{ job_name }}"}
    every: 20s
    timeout: 5m
"""
WAIT_KEY = "steps/3"
STALE = "10"


def _parked(store: Store, proc: subprocess.Popen[bytes], rows: int) -> list[str]:
    """The run ids once each of ``rows`` runs is parked in its poll's 20 s wait."""
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, "the run ended before it waited"
        assert time.monotonic() < deadline, "the runs never reached their poll's wait"
        ids = [r["run_id"] for r in store.find_runs(status="running")]
        if len(ids) == rows and all(WAIT_KEY in ResumeState.load(store, i).parked for i in ids):
            return ids
        time.sleep(0.05)


def _stale_for(store: Store, run_ids: list[str], seconds: float) -> None:
    """Wait until the heartbeat of every run is ``seconds`` old (its process is dead)."""
    deadline = time.monotonic() + 60
    while any(time.time() - ((store.get_run(i) or {}).get("heartbeat") or 0) <= seconds
              for i in run_ids):
        assert time.monotonic() < deadline, "the heartbeat of a killed run stayed fresh"
        time.sleep(0.2)


def _live_then_killed(tmp_path: Path, store_url: str, how: str) -> None:
    """``how``: ``run`` (one `runner run`), ``batch`` (2 rows at once), ``turn`` (2 rows one
    at a time: the second waits its turn, ``queued``, while the first waits in its poll)."""
    playbook = tmp_path / "long-poll.yaml"
    playbook.write_text(LONG_POLL)
    rows, parked = {"run": (1, 1), "batch": (2, 2), "turn": (2, 1)}[how]
    with AutomatosSimulator(schedule_seconds=0.5, run_seconds=0.5) as sim:
        env, key = automatos_env(tmp_path, sim), {"AUTOMATOS_KEY": sim.automatos_key}
        args = [str(RUNNER), "run", str(playbook), "--env", str(env), "--store", store_url,
                "-q"]
        if how != "run":
            table = tmp_path / "rows.jsonl"
            table.write_text('{"hostname": "NTB2"}\n{"hostname": "NTB2"}\n')
            args += ["--inputs-from", str(table), "--concurrency", str(parked)]
        proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **key},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        store = Store(store_url)
        try:
            run_ids = _parked(store, proc, parked)
            queued = [r["run_id"] for r in store.find_runs(status="queued")]
            assert len(queued) == rows - parked
            time.sleep(12)  # into the 20 s wait: no journal write for more than 10 s now
            live = cli("resume", "--stale", "--stale-after", STALE, "--store", store_url,
                       env=key, timeout=120)
            assert live.returncode == 0, live.stdout + live.stderr
            assert live.stdout.startswith("no stale runs"), live.stdout  # nothing taken
            # nor would the workers' sweep take it (a batch's rows have the batch's owner)
            assert find_orphans(store, stale_after=float(STALE), messages=None) == []
            assert proc.poll() is None  # still waiting in its poll
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        assert sim.calls["create_distribution"] == parked
        _stale_for(store, run_ids + queued, float(STALE) + 0.5)
        swept = {o.run_id for o in find_orphans(store, stale_after=float(STALE), messages=None)}
        assert swept == (set() if how == "run" else {*run_ids, *queued})  # a plain run is
        # left to its user
        done = cli("resume", "--stale", "--stale-after", STALE, "--store", store_url,
                   env=key, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert sorted(done.stdout.splitlines()[:-1]) == sorted(
            [f"run {i} (was running): passed" for i in run_ids] +
            [f"run {i} (was queued): passed" for i in queued]), done.stdout
        assert sim.calls["create_distribution"] == rows  # none sent again by the resume
    for i in run_ids + queued:
        assert (store.get_run(i) or {})["status"] == "passed"
    store.close()


@pytest.mark.parametrize("how", ["run", "batch", "turn"])
def test_a_long_wait_in_a_live_process_is_not_taken_sqlite(tmp_path: Path, how: str) -> None:
    _live_then_killed(tmp_path, str(tmp_path / "runs.db"), how)


def test_a_long_wait_in_a_live_process_is_not_taken_postgresql(tmp_path: Path,
                                                                pg_url: str) -> None:
    _live_then_killed(tmp_path, pg_url, "turn")

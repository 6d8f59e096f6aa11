"""Parked waits over real processes (issue 17): a batch's runs waiting on their jobs hold no
thread each, end recorded as they ended, and a parked run killed with SIGKILL is woken by
``runner resume`` at its journaled time without a second create."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import PLAYBOOKS, ROOT, RUNNER, automatos_env, cli
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner.store import Store

DISTRIBUTE = PLAYBOOKS / "automatos" / "distribute-package.yaml"
ROWS = 300


class Stamped(AutomatosSimulator):
    """The Automatos simulator, noting when each status read came (clock time)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.status_reads: list[float] = []

    def dispatch(self, req: Any) -> Any:
        name, reply = super().dispatch(req)
        if name == "distribution_status":
            with self.lock:
                self.status_reads.append(time.time())
        return name, reply


def query(store: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30) as c:
        return list(c.execute(sql))


def until(what: str, check: Any, proc: subprocess.Popen[str], limit: float = 120) -> None:
    """Wait for ``check()`` (not a timed assertion: a guard against a hang)."""
    deadline = time.monotonic() + limit
    while not check():
        if proc.poll() is not None:
            said = proc.stdout.read()[-600:] if proc.stdout else ""
            raise AssertionError(f"the process ended (rc {proc.returncode}) before {what}: "
                                 f"{said}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"no {what} after {limit:g} s")
        time.sleep(0.2)


@pytest.fixture()
def fleet() -> Iterator[Stamped]:
    # 20 s jobs: every run of the batch is started and has made a journaled wait (5.7 s from
    # 10.4 s) before the first one ends
    with Stamped(schedule_seconds=5.0, run_seconds=15.0, fleet_size=ROWS) as s:
        yield s


def start_batch(tmp_path: Path, sim: AutomatosSimulator, rows: int,
                concurrency: int) -> tuple[subprocess.Popen[str], Path]:
    store = tmp_path / "runs.db"
    lines = tmp_path / "rows.jsonl"
    lines.write_text("".join(json.dumps({"hostname": f"FLEET{i:05d}"}) + "\n"
                             for i in range(1, rows + 1)))
    proc = subprocess.Popen(
        [str(RUNNER), "run", str(DISTRIBUTE), "--env", str(automatos_env(tmp_path, sim)),
         "--inputs-from", str(lines), "--concurrency", str(concurrency), "--store", str(store),
         "-q"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "AUTOMATOS_KEY": sim.automatos_key})
    return proc, store


def test_hundreds_of_parked_runs_hold_a_few_threads_and_pass(tmp_path: Path,
                                                             fleet: Stamped) -> None:
    proc, store = start_batch(tmp_path, fleet, ROWS, ROWS)

    def all_parked() -> bool:
        if not store.exists():
            return False
        try:
            return query(store, "SELECT COUNT(DISTINCT run_id) FROM journal "
                                "WHERE event = 'parked'")[0][0] == ROWS
        except sqlite3.OperationalError:  # the tables are not made yet
            return False

    until("300 parked runs", all_parked, proc)
    threads = len(os.listdir(f"/proc/{proc.pid}/task"))
    waiting = query(store, "SELECT COUNT(*) FROM runs WHERE status = 'running'")[0][0]
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0, out
    assert f"{ROWS} passed, 0 failed" in out
    assert waiting == ROWS  # every run was under way while the threads were counted
    assert threads <= 40, f"{threads} threads for {ROWS} waiting runs"  # 16 hubs, the writer
    # recorded as they ended: every run passed, each on its own machine and job
    statuses = query(store, "SELECT status, COUNT(*) FROM runs GROUP BY status")
    assert statuses == [("passed", ROWS)]
    assert fleet.calls["create_distribution"] == ROWS
    assert len({d["machineId"] for d in fleet.distributions}) == ROWS
    runs = Store(str(store)).find_runs(limit=ROWS)
    assert all(s["status"] == "passed" for r in runs for s in r["report"]["steps"])


def test_a_parked_run_killed_is_woken_by_resume_at_its_time(tmp_path: Path) -> None:
    # waits 0.5, 0.75 ... 3.8 s, then 5.7 s (journaled) from 10.4 s; the job ends at 15 s
    with Stamped(schedule_seconds=5.0, run_seconds=10.0, fleet_size=1) as sim:
        proc, store = start_batch(tmp_path, sim, 1, 1)  # a batch's row: on a hub

        def parked() -> list[tuple[Any, ...]]:
            if not store.exists():
                return []
            try:
                return query(store, "SELECT run_id, data FROM journal WHERE event = 'parked' "
                                    "ORDER BY id DESC LIMIT 1")
            except sqlite3.OperationalError:
                return []

        def long_park() -> bool:  # a wait with seconds to go: the resume comes before it ends
            last = parked()
            return bool(last) and json.loads(last[0][1])["until"] - time.time() >= 3

        until("a parked wait of 3 s or more", long_park, proc)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
        (run_id, data), = parked()
        wake = json.loads(data)["until"]
        assert Store(str(store)).get_run(run_id)["status"] == "running"  # nobody closed it
        assert sim.calls["create_distribution"] == 1
        reads_before = len(sim.status_reads)

        resumed = cli("resume", run_id, "--store", str(store), "--force",
                      env={"AUTOMATOS_KEY": sim.automatos_key})
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert sim.calls["create_distribution"] == 1  # the create is not sent again
        woken = sim.status_reads[reads_before:]
        assert woken and woken[0] >= wake  # the first read after the resume: at its time
        final = Store(str(store)).get_run(run_id)
        assert final is not None and final["status"] == "passed"
        assert final["outputs"]["job"] == sim.distributions[0]["jobName"]


def test_ctrl_c_wakes_parked_runs_at_once(tmp_path: Path, fleet: Stamped) -> None:
    """SIGTERM stops the batch: its parked runs are interrupted (resumable) now, not at
    their wake time, and the store says so."""
    proc, store = start_batch(tmp_path, fleet, 20, 20)

    def parked() -> bool:
        try:
            return store.exists() and query(store, "SELECT COUNT(DISTINCT run_id) FROM "
                                                   "journal WHERE event = 'parked'")[0][0] == 20
        except sqlite3.OperationalError:
            return False

    until("20 parked runs", parked, proc)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    statuses = dict(query(store, "SELECT status, COUNT(*) FROM runs GROUP BY status"))
    assert statuses == {"interrupted": 20}, (statuses, out)
    assert fleet.calls["create_distribution"] == 20



def test_a_killed_batch_of_parked_runs_is_finished_by_resume_batch(tmp_path: Path,
                                                                   fleet: Stamped) -> None:
    """SIGKILL with every row parked, then ``runner resume --batch ID --force``: every row is
    woken (on hubs: a few threads) and passes on the job it created, none created twice."""
    proc, store = start_batch(tmp_path, fleet, 20, 20)

    def parked() -> bool:
        try:
            return store.exists() and query(store, "SELECT COUNT(DISTINCT run_id) FROM "
                                                   "journal WHERE event = 'parked'")[0][0] == 20
        except sqlite3.OperationalError:
            return False

    until("20 parked runs", parked, proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    (batch,), = query(store, "SELECT DISTINCT batch_id FROM runs")
    assert fleet.calls["create_distribution"] == 20
    resumed = cli("resume", "--batch", batch, "--store", str(store), "--force",
                  "--concurrency", "20", env={"AUTOMATOS_KEY": fleet.automatos_key},
                  timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert fleet.calls["create_distribution"] == 20  # none sent again
    assert dict(query(store, "SELECT status, COUNT(*) FROM runs GROUP BY status")) == \
        {"passed": 20}


@pytest.mark.parametrize("how", ["--batch", "--stale"])
def test_sigterm_stops_a_resume_and_its_runs_are_recorded_interrupted(
        tmp_path: Path, fleet: Stamped, how: str) -> None:
    """``runner resume --batch`` (or ``--stale``) stopped by SIGTERM while its runs are parked:
    like a batch, it stops them now (interrupted, resumable): ``--batch`` left them ``running``
    for nobody, ``--stale`` waited for them to end. A second resume finishes them without a
    second create."""
    proc, store = start_batch(tmp_path, fleet, 20, 20)

    def parked(times: int) -> Any:
        def check() -> bool:
            try:
                return store.exists() and query(store, "SELECT COUNT(*) FROM journal WHERE "
                                                       "event = 'parked'")[0][0] >= times
            except sqlite3.OperationalError:
                return False
        return check

    until("20 parked runs", parked(20), proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    (batch,), = query(store, "SELECT DISTINCT batch_id FROM runs")
    before = query(store, "SELECT COUNT(*) FROM journal WHERE event = 'parked'")[0][0]
    resuming = subprocess.Popen(
        [str(RUNNER), "resume", *(["--batch", batch, "--force"] if how == "--batch" else
                                  ["--stale", "--stale-after", "0"]),
         "--store", str(store), "--concurrency", "20"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "AUTOMATOS_KEY": fleet.automatos_key})
    until("20 rows parked again", parked(before + 20), resuming)
    resuming.send_signal(signal.SIGTERM)
    out, _ = resuming.communicate(timeout=60)
    assert resuming.returncode == 130, out
    assert "Traceback" not in out
    statuses = dict(query(store, "SELECT status, COUNT(*) FROM runs GROUP BY status"))
    assert statuses == {"interrupted": 20}, (statuses, out)
    again = cli("resume", "--batch", batch, "--store", str(store), "--concurrency", "20",
                env={"AUTOMATOS_KEY": fleet.automatos_key}, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert fleet.calls["create_distribution"] == 20  # none sent again
    assert dict(query(store, "SELECT status, COUNT(*) FROM runs GROUP BY status")) == \
        {"passed": 20}

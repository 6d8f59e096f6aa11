"""Many runs writing to the default SQLite store at once, while another process holds the
store's write lock for longer than SQLite's busy timeout (a second batch, a backup, a slow
migration): no run may fail for the store's sake, none is left `running`, and the batch
summary says what the store says; also when a run raises after it was recorded."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from helpers import PLAYBOOKS, ROOT, RUNNER, automatos_env
from runner.builtin.automatos.simulator import AutomatosSimulator

DISTRIBUTE = str(PLAYBOOKS / "automatos" / "distribute-package.yaml")
ROWS = 100
HOLD = 11.0  # seconds: longer than the store's busy timeout (10 s)

# another process takes the write lock of the store file and keeps it HOLD seconds
HOLDER = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
c.execute("BEGIN IMMEDIATE")
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
c.execute("ROLLBACK")
"""


def test_runs_do_not_fail_when_another_process_holds_the_store(tmp_path: Path) -> None:
    store = Path(os.environ["RUNNER_STORE"])  # the default store of this test (conftest)
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"hostname": "NTB1"}) + "\n" for _ in range(ROWS)))
    summary_file = tmp_path / "summary.json"
    with AutomatosSimulator(schedule_seconds=1.0, run_seconds=1.0) as sim:
        env = automatos_env(tmp_path, sim)
        batch = subprocess.Popen(
            [str(RUNNER), "run", DISTRIBUTE, "--inputs-from", str(rows), "--concurrency",
             str(ROWS), "--env", str(env), "-q", "--report-json", str(summary_file)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "AUTOMATOS_KEY": sim.automatos_key})
        deadline = time.monotonic() + 60
        while sim.calls["create_distribution"] < ROWS // 3:  # the batch is under way
            assert time.monotonic() < deadline and batch.poll() is None, batch.stdout
            time.sleep(0.05)
        holder = subprocess.run([sys.executable, "-c", HOLDER, str(store), str(HOLD)],
                                capture_output=True, text=True, timeout=60)
        assert holder.returncode == 0 and "holding" in holder.stdout, holder.stderr
        out, _ = batch.communicate(timeout=240)
        creates = sim.calls["create_distribution"]
    assert batch.returncode == 0, out[-3000:]
    summary = json.loads(summary_file.read_text())
    assert (summary["total"], summary["passed"], summary["failed"]) == (ROWS, ROWS, 0), \
        summary["failures"][:5]
    with sqlite3.connect(store) as c:
        statuses = dict(c.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())
        ids = {r[0] for r in c.execute("SELECT run_id FROM runs")}
    assert statuses == {"passed": ROWS}  # none failed, none left running
    assert ids == set(summary["run_ids"])  # the summary and the store agree
    assert creates == ROWS  # each row sent its create once


def test_the_summary_names_runs_that_were_recorded_before_they_raised(tmp_path: Path) -> None:
    """A row whose run is recorded and then raises (a secret of the environment not set) is
    in the summary with its run id, as it is in the store: not "not started"."""
    env = tmp_path / "lab.yaml"
    env.write_text("connectors:\n  automatos:\n    base_url: http://127.0.0.1:9\n"
                   "    automatos_id: x\n    automatos_key: {secret: RUNNER_TEST_UNSET_KEY}\n")
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"hostname": "NTB1"}\n{"hostname": "NTB2"}\n')
    summary_file = tmp_path / "summary.json"
    done = subprocess.run(
        [str(RUNNER), "run", str(ROOT / "tests" / "distributed" / "get_machine.yaml"),
         "--env", str(env), "--inputs-from", str(rows), "--report-json", str(summary_file)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if k != "RUNNER_TEST_UNSET_KEY"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "not started" not in done.stdout
    summary = json.loads(summary_file.read_text())
    with sqlite3.connect(os.environ["RUNNER_STORE"]) as c:
        stored = dict(c.execute("SELECT run_id, status FROM runs").fetchall())
    assert set(summary["run_ids"]) == set(stored) and len(stored) == 2
    assert [f["run_id"] for f in summary["failures"]] == summary["run_ids"]
    assert set(stored.values()) == {"failed"}

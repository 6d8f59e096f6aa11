"""`runner run --inputs-from FILE --concurrency N`: one recorded run per row, a line per run,
a summary, the exit code of the batch; and the options that do not go together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import PLAYBOOKS, cli

DISTRIBUTE = str(PLAYBOOKS / "automatos" / "distribute-package.yaml")


def test_one_run_per_row_a_summary_and_exit_1_when_a_row_fails(tmp_path: Path) -> None:
    rows = tmp_path / "machines.csv"
    rows.write_text("hostname,department\nNTB1,DEV\nNTB2,\nNOPE,DEV\n")
    store = tmp_path / "runs.db"
    report = tmp_path / "summary.json"
    done = cli("run", DISTRIBUTE, "--inputs-from", str(rows), "--concurrency", "3",
               "--store", str(store), "--report-json", str(report), timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "3 runs from" in out and "2 passed, 1 failed" in out
    assert "row 3: failed" in out and "machine not found" in out
    summary = json.loads(report.read_text())
    assert (summary["total"], summary["passed"], summary["failed"]) == (3, 2, 1)
    assert summary["failures"][0]["row"] == 2
    assert summary["failures"][0]["inputs"] == {"hostname": "NOPE", "department": "DEV"}
    history = cli("history", "--store", str(store), "--json")
    recorded = [json.loads(line) for line in history.stdout.splitlines()]
    assert sorted(r["run_id"] for r in recorded) == sorted(summary["run_ids"])
    assert sorted(r["status"] for r in recorded) == ["failed", "passed", "passed"]
    # -i gives every row a default; the row's own cells win
    assert {r["inputs"]["department"] for r in recorded} == {"DEV"}


def test_all_rows_pass_exit_0_and_i_values_fill_the_rows(tmp_path: Path) -> None:
    rows = tmp_path / "machines.jsonl"
    rows.write_text('{"hostname": "NTB1"}\n{"hostname": "NTB2"}\n')
    store = tmp_path / "runs.db"
    done = cli("run", DISTRIBUTE, "--inputs-from", str(rows), "-c", "2", "-q",
               "-i", "department=DEV", "--store", str(store), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 runs from" in done.stdout and "2 passed, 0 failed" in done.stdout
    assert "row 1" not in done.stdout  # -q: the summary only
    recorded = [json.loads(line) for line in
                cli("history", "--store", str(store), "--json").stdout.splitlines()]
    assert [r["inputs"]["department"] for r in recorded] == ["DEV", "DEV"]


@pytest.mark.parametrize(("args", "message"), [
    (["--wait"], "--wait and --timeout go with --broker"),
    (["--concurrency", "5"], "--concurrency goes with --inputs-from"),
    (["--inputs-from", "ROWS", "--junit", "j.xml"], "--junit report on one run here"),
    (["--broker", "redis://127.0.0.1:6379/0", "--report-html", "r.html"],
     "--report-html report on one run here; not with --broker"),
    (["--inputs-from", "EMPTY"], "holds no rows of inputs"),
    (["--inputs-from", "BAD"], "rows.jsonl:2: not valid JSON"),
])
def test_options_that_do_not_go_together(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "rows.csv").write_text("hostname\nNTB1\n")
    (tmp_path / "empty.csv").write_text("hostname\n")
    (tmp_path / "rows.jsonl").write_text('{"hostname": "NTB1"}\n{"hostname": \n')
    names = {"ROWS": "rows.csv", "EMPTY": "empty.csv", "BAD": "rows.jsonl"}
    args = [str(tmp_path / names[a]) if a in names else a for a in args]
    done = cli("run", DISTRIBUTE, *args, "--store", str(tmp_path / "runs.db"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "j.xml").exists() and not (tmp_path / "r.html").exists()


def test_ctrl_c_stops_the_batch_and_leaves_resumable_runs(tmp_path: Path) -> None:
    """Ctrl-C in the middle of a batch: rows not started never start, runs that are polling
    stop as interrupted (recorded, resumable), the summary says so, exit 130; a resume then
    finishes a run on the same job without a second create."""
    import os
    import signal
    import subprocess
    import time

    from helpers import RUNNER, automatos_env
    from runner.builtin.automatos.simulator import AutomatosSimulator

    from runner.store import Store

    sim = AutomatosSimulator(schedule_seconds=1.0, run_seconds=2.0)
    sim.start()
    try:
        env = automatos_env(tmp_path, sim)
        secrets = {"AUTOMATOS_KEY": sim.automatos_key}
        rows = tmp_path / "rows.jsonl"
        rows.write_text('{"hostname": "NTB2"}\n' * 4)
        store = tmp_path / "runs.db"
        proc = subprocess.Popen(
            [str(RUNNER), "run", DISTRIBUTE, "--inputs-from", str(rows), "--concurrency", "2",
             "--env", str(env), "--store", str(store)], cwd=tmp_path, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env={**os.environ, **secrets})
        deadline = time.monotonic() + 30
        while sim.calls["distribution_status"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # both running runs are polling their jobs
        assert sim.calls["create_distribution"] == 2
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, out + err
        assert "4 runs from" in out and "2 interrupted, 2 not started" in out, out
        assert "runner resume RUN_ID" in out and "before rows 3, 4 started" in out, out
        assert "Traceback" not in err
        assert sim.calls["create_distribution"] == 2  # the other two rows never started
        recorded = Store(str(store)).find_runs()
        # the rows not started stay recorded as queued: runner resume --batch runs them
        assert sorted(r["status"] for r in recorded) == ["interrupted", "interrupted",
                                                         "queued", "queued"]
        recorded = [r for r in recorded if r["status"] == "interrupted"]
        again = subprocess.run([str(RUNNER), "resume", recorded[0]["run_id"], "--store",
                                str(store)], capture_output=True, text=True, timeout=60,
                               env={**os.environ, **secrets})
        assert again.returncode == 0, again.stdout + again.stderr
        assert sim.calls["create_distribution"] == 2  # resumed on the same job
        final = Store(str(store)).get_run(recorded[0]["run_id"])
        assert final is not None and final["status"] == "passed"
    finally:
        sim.stop()

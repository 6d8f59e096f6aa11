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

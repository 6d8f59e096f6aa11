"""runner.batch: rows from JSON lines and CSV, one run each, against the real simulator."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from helpers import FAST, PLAYBOOKS

from runner.batch import run_batch
from runner.batch_rows import read_rows
from runner.batch_summary import BatchSummary
from runner.errors import InvalidInput, PlaybookError
from runner.sandbox import Sandbox

DISTRIBUTE = PLAYBOOKS / "automatos" / "distribute-package.yaml"
MACHINES = [{"machineId": f"M{i:03d}", "hostname": f"HOST{i}", "department": "DEV"}
            for i in range(5)]


def sandbox() -> Sandbox:
    return Sandbox({"automatos": {**FAST["automatos"], "machines": MACHINES}})


def test_jsonl_rows_one_run_each(tmp_path: Path) -> None:
    rows_file = tmp_path / "rows.jsonl"
    rows_file.write_text("".join(json.dumps({"hostname": m["hostname"]}) + "\n\n"
                                 for m in MACHINES))
    rows = read_rows(rows_file)
    assert rows == [{"hostname": m["hostname"]} for m in MACHINES]
    seen: list[tuple[int, str]] = []
    lock = threading.Lock()

    def on_result(index: int, inputs: Any, result: Any, failure: Any) -> None:
        with lock:
            seen.append((index, result.status))

    box = sandbox()
    try:
        summary = run_batch(DISTRIBUTE, rows=rows, concurrency=3, sandbox=box,
                            on_result=on_result)
    finally:
        box.stop()
    assert isinstance(summary, BatchSummary)
    assert (summary.total, summary.passed, summary.failed) == (5, 5, 0) and summary.ok
    assert summary.failures == []
    assert len(set(summary.run_ids)) == 5 and all(summary.run_ids)
    assert len(summary.durations_ms) == 5 and summary.wall_seconds > 0
    assert sorted(seen) == [(i, "passed") for i in range(5)]
    sim = box.simulators["automatos"]
    # one distribution per machine, each run with its own login
    assert sorted(d["machineId"] for d in sim.distributions) == [m["machineId"] for m in MACHINES]
    assert sim.calls["create_distribution"] == 5 and sim.calls["auth"] == 5


def test_csv_rows_and_a_failing_row(tmp_path: Path) -> None:
    rows_file = tmp_path / "rows.csv"
    rows_file.write_text("hostname,department\nHOST0,DEV\nHOST1,\nNOPE,DEV\nHOST3,DEV\n"
                         "HOST4,DEV\n")
    rows = read_rows(rows_file)
    assert rows[1] == {"hostname": "HOST1"}  # an empty cell: the input's default applies
    box = sandbox()
    try:
        summary = run_batch(DISTRIBUTE, rows=rows, concurrency=5, sandbox=box)
    finally:
        box.stop()
    assert (summary.total, summary.passed, summary.failed) == (5, 4, 1)
    assert not summary.ok
    (failure,) = summary.failures
    assert failure.row == 2 and failure.inputs == {"hostname": "NOPE", "department": "DEV"}
    assert "machine not found" in failure.error
    assert failure.failed_step == "step 'machine'"
    assert failure.run_id == summary.run_ids[2]
    assert len(set(summary.run_ids)) == 5
    assert box.simulators["automatos"].calls["create_distribution"] == 4
    data = summary.to_dict()
    assert data["failed"] == 1 and data["failures"][0]["row"] == 2


def test_a_row_with_invalid_inputs_does_not_stop_the_others(tmp_path: Path) -> None:
    box = sandbox()
    try:
        summary = run_batch(DISTRIBUTE, rows=[{"hostname": "HOST0"}, {"nope": "x"}],
                            concurrency=2, sandbox=box)
    finally:
        box.stop()
    assert (summary.passed, summary.failed) == (1, 1)
    (failure,) = summary.failures
    assert failure.row == 1 and failure.run_id is None and summary.run_ids[1] == ""
    assert "no input 'nope'" in failure.error


def test_an_invalid_playbook_fails_before_any_run(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsteps: 3\n")
    with pytest.raises(PlaybookError):
        run_batch(bad, rows=[{}], concurrency=1)


@pytest.mark.parametrize(("name", "text", "message"), [
    ("rows.txt", "", "cannot read rows of inputs from a '.txt' file"),
    ("rows.jsonl", '{"a": 1}\n{"a": \n', "rows.jsonl:2: not valid JSON"),
    ("rows.jsonl", '{"a": 1}\n[1, 2]\n', "rows.jsonl:2: expected a JSON object"),
    ("rows.csv", "", "has no header row"),
    ("rows.csv", "a,a\n1,2\n", "distinct input name"),
    ("rows.csv", "a,b\n1,2,3\n", "rows.csv:2: 3 cells for 2 columns"),
])
def test_read_rows_errors_say_where(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[").replace(".", r"\.")):
        read_rows(path)


def test_read_rows_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"missing\.csv"):
        read_rows(tmp_path / "missing.csv")


def test_the_playbook_is_loaded_once_for_the_whole_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    import runner.launch
    import runner.playbook

    loads: list[str] = []
    real = runner.playbook.load_playbook

    def counting(path: Any, **kw: Any) -> Any:
        loads.append(str(path))
        return real(path, **kw)

    monkeypatch.setattr(runner.playbook, "load_playbook", counting)
    monkeypatch.setattr(runner.launch, "load_playbook", counting)
    box = sandbox()
    try:
        summary = run_batch(DISTRIBUTE, rows=[{"hostname": m["hostname"]} for m in MACHINES],
                            concurrency=5, sandbox=box)
    finally:
        box.stop()
    assert summary.passed == 5
    assert loads == [str(DISTRIBUTE)]  # checked once, not once per row

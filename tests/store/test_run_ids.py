"""Two runs never share an id, and a taken id is never read as "it ran already".

A batch starts hundreds of runs a second; six random hex digits collide among them (a 1,000-row
batch of `python -m bench process_batch` reported "999 passed, 1 already ran" in a fresh store,
and exited 1). The collision is forced here by giving os.urandom the same bytes twice."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from runner import run_ids
from runner.engine import execute
from runner.environment import load_environment
from runner.playbook import load_playbook
from runner.store import Store


def repeat_bytes(monkeypatch: pytest.MonkeyPatch, *values: bytes) -> None:
    """os.urandom gives ``values`` in turn, then real randomness."""
    queue = list(values)
    real = os.urandom
    monkeypatch.setattr(run_ids.os, "urandom",
                        lambda n: queue.pop(0) if queue else real(n))


def test_one_process_never_hands_out_an_id_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    repeat_bytes(monkeypatch, b"\xab\xcd\xef", b"\xab\xcd\xef", b"\xab\xcd\xef", b"\x01\x02\x03")
    first, second = run_ids.new_run_id(), run_ids.new_run_id()
    assert (first.endswith("-abcdef") and second.endswith("-010203")) or \
        first[:15] != second[:15]  # the clock's second turned between them: both fine
    assert first != second


def record(run_id: str, row: int, key: str | None) -> dict[str, Any]:
    return {"run_id": run_id, "playbook": "p", "file": "/p.yaml", "environment": "lab",
            "inputs": {"row": row}, "dedup_key": key, "fingerprint": None, "batch_id": "b1",
            "batch_row": row}


@pytest.mark.parametrize("keyed", [True, False])
def test_a_batch_row_whose_id_another_run_holds_takes_a_new_one(tmp_path: Path,
                                                                keyed: bool) -> None:
    """Before: the insert's conflict on the run id was taken for the row's dedup key, so the
    row was skipped as "already ran"; with no key (a sandbox batch) every row was."""
    store = Store(str(tmp_path / "runs.db"))
    assert store.create_run("20261202-000000-aaaaaa", "other", "/o.yaml", "lab", {})
    rows = [record("20261202-000000-aaaaaa" if i == 1 else f"20261202-000000-00000{i}", i,
                   f"row:{i}" if keyed else None) for i in range(3)]
    taken = store.create_runs(rows)
    assert taken == set()
    assert rows[1]["run_id"] != "20261202-000000-aaaaaa"  # the row holds its new id
    ids = {r["run_id"] for r in store.batch_runs("b1")}
    assert ids == {r["run_id"] for r in rows} and len(ids) == 3
    other = [r for r in store.batch_runs("b1") if r["run_id"] == "20261202-000000-aaaaaa"]
    assert not other


def test_a_taken_dedup_key_still_means_it_ran(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "runs.db"))
    assert store.create_runs([record("20261202-000000-000001", 0, "row:0")]) == set()
    again = [record("20261202-000000-000001", 0, "row:0"),  # its id and its key: ran
             record("20261202-000000-000002", 1, "row:1")]
    assert store.create_runs(again) == {"row:0"}
    assert not store.create_run("20261202-000000-000009", "p", "/p.yaml", "lab", {},
                                dedup_key="row:1")


def test_a_run_whose_id_another_run_holds_is_recorded_under_a_new_one(tmp_path: Path) -> None:
    """Before: the engine's insert failed, and the run was refused as 'already recorded'."""
    playbook = tmp_path / "p.yaml"
    playbook.write_text("name: one step\nsteps:\n  - assert: 'true'\n")
    store = Store(str(tmp_path / "runs.db"))
    assert store.create_run("20261202-000000-bbbbbb", "other", "/o.yaml", "lab", {})
    result = execute(load_playbook(playbook), load_environment("none"), {}, store=store,
                     run_id="20261202-000000-bbbbbb")
    assert result.status == "passed" and result.run_id != "20261202-000000-bbbbbb"
    assert store.get_run(result.run_id)["status"] == "passed"
    assert store.get_run("20261202-000000-bbbbbb")["playbook"] == "other"

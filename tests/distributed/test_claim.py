"""Claiming a run and fencing its writes: the rules that make a redelivered or resumed run
finish once. No server needed: a SQLite store of the test's own."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.distributed import safe_url
from runner.jobs import RunJob, execute_job
from runner.ownership import FencedStore, LostOwnership, claim_run
from runner.store import Store

TINY = Path(__file__).resolve().parent / "get_machine.yaml"


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(str(tmp_path / "runs.db"))
    yield s
    s.close()


def queued(store: Store, run_id: str = "r1", status: str = "queued") -> str:
    assert store.create_run(run_id, "Look up one machine", str(TINY), "sandbox", {},
                            status=status)
    return run_id


def age(store: Store, run_id: str, seconds: float) -> None:
    with store.db.begin() as c:
        c.execute("UPDATE runs SET heartbeat = :beat WHERE run_id = :run_id",
                  {"beat": time.time() - seconds, "run_id": run_id})


def test_a_queued_run_is_claimed_once(store: Store) -> None:
    run_id = queued(store)
    first = claim_run(store, run_id, "a")
    assert first.outcome == "claimed" and first.resume is not None
    assert not first.resume.finished  # a fresh start
    assert claim_run(store, run_id, "b").outcome == "busy"  # alive: leave it
    row = store.get_run(run_id)
    assert row is not None and row["owner"] == "a" and row["status"] == "running"


def test_a_dead_run_is_taken_over_and_its_old_owner_is_fenced(store: Store) -> None:
    run_id = queued(store)
    claim_run(store, run_id, "a")
    old = FencedStore(store, run_id, "a")
    old.write(run_id, "steps/0", "finished", "passed", {"defined": {}, "steps": {}})
    age(store, run_id, 60)
    taken = claim_run(store, run_id, "b", stale_after=30)
    assert taken.outcome == "claimed" and taken.resume is not None
    assert "steps/0" in taken.resume.finished  # it resumes, it does not start over
    with pytest.raises(LostOwnership):
        old.write(run_id, "steps/1", "sent", data={"method": "POST"})
    with pytest.raises(LostOwnership):
        old.update_run(run_id, status="passed")
    with pytest.raises(LostOwnership):
        old.heartbeat(run_id)
    assert [e.step_key for e in store.entries(run_id)] == ["steps/0"]  # nothing got through
    new = FencedStore(store, run_id, "b")
    new.update_run(run_id, status="passed")
    assert claim_run(store, run_id, "c").outcome == "done"


def test_two_takeovers_of_one_dead_run_one_wins(store: Store) -> None:
    run_id = queued(store)
    claim_run(store, run_id, "a")
    age(store, run_id, 60)
    row = store.get_run(run_id)
    assert row is not None
    assert claim_run(store, run_id, "b").outcome == "claimed"
    # "c" read the row before "b" took it: its compare-and-set finds the heartbeat moved
    with store.db.begin() as c:
        got = c.execute("UPDATE runs SET owner = 'c' WHERE run_id = :run_id "
                        "AND heartbeat = :beat",
                        {"run_id": run_id, "beat": row["heartbeat"]}).rowcount
    assert got == 0


def test_pending_missing_and_finished_runs_are_not_run(store: Store) -> None:
    queued(store, "p", status="pending")
    queued(store, "f", status="failed")
    assert claim_run(store, "p", "a").outcome == "waiting"
    assert claim_run(store, "f", "a").outcome == "done"  # a failed run is resumed by hand
    assert claim_run(store, "nope", "a").outcome == "missing"


def test_execute_job_runs_a_queued_run_to_the_end(store: Store) -> None:
    run_id = queued(store)
    job = RunJob(run_id, str(TINY), "sandbox", {"hostname": "NTB2"})
    assert execute_job(store, job) == "passed"
    row = store.get_run(run_id)
    assert row is not None and row["outputs"] == {"machine": "456DEF"}
    assert execute_job(store, job) == "done"  # delivered twice: the second does nothing


def test_execute_job_records_a_run_that_cannot_start(store: Store) -> None:
    run_id = queued(store)
    job = RunJob(run_id, str(TINY), "no-such-environment", {})
    assert execute_job(store, job) == "failed"
    row = store.get_run(run_id)
    assert row is not None and row["status"] == "failed"
    assert "environment 'no-such-environment' not found" in row["error"]


def test_broker_passwords_are_masked() -> None:
    assert safe_url("redis://:hunter2@10.0.0.1:6379/0") == "redis://:***@10.0.0.1:6379/0"
    assert safe_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"

"""The process's heartbeat (runner.heartbeats) on the real SQLite file and the real PostgreSQL:
one thread and one statement a beat for thousands of runs held, only the runs this process
holds (a run taken over by another attempt is no longer beaten: fencing stays), and gone with
the last run."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.heartbeats import beat, hold, pulse_of
from runner.ownership import claim_run
from runner.store import Store

OLD = 1000.0  # a heartbeat from 1970: dead to anyone who looks


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = str(tmp_path / "runs.db") if request.param == "sqlite" else \
        request.getfixturevalue("pg_url")
    s = Store(url)
    yield s
    s.close()


def _rows(store: Store, owner: str, n: int, prefix: str, status: str = "running") -> list[str]:
    ids = [f"{prefix}-{i}" for i in range(n)]
    store.create_runs([{"run_id": i, "playbook": "p", "file": "p.yaml", "environment": "e",
                        "inputs": {}, "status": status, "owner": owner} for i in ids])
    return ids


def _age(store: Store, *run_ids: str) -> None:
    for i in run_ids:
        store.update_run(i, heartbeat=OLD)


def _beats(store: Store, more_than: int) -> int:
    deadline = time.monotonic() + 60
    while True:
        pulse = pulse_of(store)
        assert pulse is not None
        if pulse.beats > more_than:
            return pulse.beats
        assert time.monotonic() < deadline, "no heartbeat in 60 s"
        time.sleep(0.05)


def _beat(store: Store, run_id: str) -> float:
    return float((store.get_run(run_id) or {})["heartbeat"])


def test_one_pulse_beats_every_run_held_and_only_those(store: Store) -> None:
    batch = _rows(store, "host:1:batch", 2000, "b")  # a batch's rows share its one owner
    (plain,) = _rows(store, "", 1, "plain")  # a plain `runner run`: no owner, held by id
    (other,) = _rows(store, "host:2:other", 1, "o")  # another process's run
    (ended,) = _rows(store, "host:1:batch", 1, "e", status="passed")
    (turn,) = _rows(store, "host:1:batch", 1, "q", status="queued")  # a row waiting its turn
    _age(store, *batch, plain, other, ended, turn)
    holds = [hold(store, owner="host:1:batch", every=0.1) for _ in batch]
    holds.append(hold(store, run_id=plain, every=0.1))
    try:
        seen = _beats(store, 1)  # a beat that began before the last hold may miss it
        assert [t.name for t in threading.enumerate()].count("runner-heartbeat") == 1
        assert [i for i in (*batch, plain, turn) if _beat(store, i) == OLD] == []
        assert _beat(store, other) == OLD and _beat(store, ended) == OLD

        # taken over by another attempt (it looked dead to it): never beaten by this process
        for _ in range(100):  # a beat between its read and its compare-and-set: "lost"
            if claim_run(store, batch[0], "host:3:thief", stale_after=0.0).outcome == "claimed":
                break
        assert (store.get_run(batch[0]) or {})["owner"] == "host:3:thief"
        store.update_run(plain, owner="host:3:thief")  # a plain run someone resumed
        _age(store, batch[0], plain)
        _beats(store, seen + 1)  # two beats more: the first may have read the rows before
        assert _beat(store, batch[0]) == OLD and _beat(store, plain) == OLD
        assert _beat(store, batch[1]) > OLD
    finally:
        for h in holds:
            h.release()
    deadline = time.monotonic() + 60
    while pulse_of(store) is not None or \
            "runner-heartbeat" in [t.name for t in threading.enumerate()]:
        assert time.monotonic() < deadline, "the heartbeat outlived the last run held"
        time.sleep(0.05)


def test_a_beat_is_one_statement_for_all_runs_of_an_owner(store: Store) -> None:
    """The statement itself: 10,000 runs of one owner and a run without one, one UPDATE
    (the count of statements is the number of IN-list chunks of names, not of runs)."""
    runs = _rows(store, "host:1:batch", 10_000, "b")
    (plain,) = _rows(store, "", 1, "plain")
    sent: list[str] = []

    class Counting:
        def __init__(self, c: object) -> None:
            self.c = c

        def execute(self, sql: str, params: object = None) -> object:
            sent.append(sql)
            return self.c.execute(sql, params)  # type: ignore[attr-defined]

    touched = store.atomically(lambda c: beat(Counting(c), ["host:1:batch"], [plain],  # type: ignore[arg-type]
                                              time.time()))
    assert touched == len(runs) + 1 and len(sent) == 1, sent

"""What a resumed run learns from the journal of an earlier attempt, entry by entry, on a real
SQLite store: each outcome kind of a request not safe to repeat, and finished steps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.journal import Journal, ResumeState
from runner.secrets import Redactor
from runner.store import Store


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(str(tmp_path / "runs.db"))
    assert s.create_run("r1", "p", "/p.yaml", "sandbox", {})
    yield s
    s.close()


def load(store: Store, *entries: tuple[str, str, str | None, dict[str, Any]]) -> ResumeState:
    for key, event, status, data in entries:
        store.write("r1", key, event, status, data)
    return ResumeState.load(store, "r1")


def test_sent_and_never_answered_is_unknown(store: Store) -> None:
    state = load(store, ("steps/2", "sent", None, {}))
    assert state.blocked("steps/2") == "unknown"
    assert state.why("steps/2") == "no answer came back"
    assert state.blocked("steps/1") is None


def test_answered_unknown_is_unknown_with_its_status(store: Store) -> None:
    state = load(store, ("steps/2", "sent", None, {}),
                 ("steps/2", "answered", "unknown", {"error": "HTTP 504: <html>", "status": 504}))
    assert state.blocked("steps/2") == "unknown"
    assert state.why("steps/2") == ("it was answered HTTP 504, which does not prove it was not "
                                    "applied")


def test_an_older_runners_vendor_error_proves_nothing(store: Store) -> None:
    # before not_applied, any error (a gateway's 504 too) was journaled as "vendor-error"
    state = load(store, ("steps/2", "sent", None, {}),
                 ("steps/2", "answered", "vendor-error", {"error": "HTTP 504"}))
    assert state.blocked("steps/2") == "unknown"
    assert state.why("steps/2") == "it was answered an error, which does not prove it was not " \
        "applied"


def test_answered_not_applied_may_be_sent_again(store: Store) -> None:
    state = load(store, ("steps/2", "sent", None, {}),
                 ("steps/2", "answered", "not-applied", {"error": "HTTP 400", "status": 400}))
    assert state.blocked("steps/2") is None
    assert "steps/2" not in state.answers


def test_answered_ok_but_not_finished_is_blocked_as_ok(store: Store) -> None:
    state = load(store, ("steps/2", "sent", None, {}),
                 ("steps/2", "answered", "ok", {"error": "", "status": 201}))
    assert state.blocked("steps/2") == "ok"
    assert state.why("steps/2") == "it was answered HTTP 201"


def test_a_later_send_resets_what_an_earlier_answer_said(store: Store) -> None:
    state = load(store, ("steps/2", "sent", None, {}),
                 ("steps/2", "answered", "unknown", {"status": 504}),
                 ("steps/2", "sent", None, {}))
    assert state.blocked("steps/2") == "unknown"
    assert state.why("steps/2") == "no answer came back"
    state = load(store, ("steps/2", "answered", "not-applied", {"status": 409}))
    assert state.blocked("steps/2") is None


def test_finished_passed_or_skipped_is_done_and_clears_the_outcome(store: Store) -> None:
    state = load(store, ("steps/2", "sent", None, {}),
                 ("steps/2", "answered", "ok", {"status": 200}),
                 ("steps/2", "finished", "passed", {"defined": {"job": "J1"}}),
                 ("steps/3", "finished", "skipped", {"defined": {}}),
                 ("steps/4", "finished", "failed", {"defined": {}}))
    assert state.blocked("steps/2") is None
    assert state.done("steps/2") == {"defined": {"job": "J1"}, "status": "passed"}
    assert state.done("steps/3") == {"defined": {}, "status": "skipped"}
    assert state.done("steps/4") is None  # a failed step runs again


def test_the_journal_writes_what_the_answer_proves(store: Store) -> None:
    journal = Journal(store, "r1", Redactor())
    journal.sent("steps/1", {"method": "POST", "url": "http://x/things"})
    journal.answered("steps/1", "unknown", "HTTP 504: gateway", 504)
    journal.answered("steps/2", "not-applied", None)
    rows = [(e.step_key, e.event, e.status, e.data) for e in store.entries("r1")]
    assert rows == [("steps/1", "sent", None, {"method": "POST", "url": "http://x/things"}),
                    ("steps/1", "answered", "unknown", {"error": "HTTP 504: gateway",
                                                        "status": 504}),
                    ("steps/2", "answered", "not-applied", {"error": "", "status": None})]
    assert journal.unsafe_keys == {"steps/1"}

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


def test_what_is_sent_and_what_is_proved_not_applied_is_tracked_per_key(store: Store) -> None:
    state = load(store, ("steps/1", "sent", None, {}),
                 ("steps/2", "sent", None, {}),
                 ("steps/2", "answered", "unknown", {"status": 504}),
                 ("steps/3", "sent", None, {}),
                 ("steps/3", "answered", "unknown", {"status": 502}),
                 ("steps/3", "answered", "not-applied", {"status": 409}))  # the retry's answer
    assert state.unsafe_sent == {"steps/1", "steps/2"}
    assert state.answers == {"steps/2": {"status": 504}}
    assert state.unsafe_outcome == {"steps/1": "unknown", "steps/2": "unknown"}


def test_remapped_moves_each_key_and_reports_the_unsafe_ones_it_drops(store: Store) -> None:
    state = load(store, ("steps/0", "finished", "passed", {"defined": {"a": 1}}),
                 ("steps/1", "sent", None, {}),
                 ("steps/1", "answered", "unknown", {"status": 504}),
                 ("steps/2", "sent", None, {}),
                 ("steps/2", "answered", "ok", {"status": 201}),
                 ("steps/2", "finished", "passed", {"defined": {"j": "J1"}}),
                 ("steps/3", "finished", "skipped", {"defined": {}}),  # dropped: runs again
                 ("steps/4", "sent", None, {}),  # dropped, sent: stuck
                 ("steps/5", "sent", None, {}),
                 ("steps/5", "finished", "passed", {"defined": {}}),  # dropped, sent: stuck
                 ("steps/6", "answered", "ok", {"status": 200}))  # dropped, answered: stuck
    moves = {"steps/0": "steps/1", "steps/1": "steps/2", "steps/2": "steps/4"}
    out, stuck = state.remapped(moves.get)
    assert out.finished == {"steps/1": {"defined": {"a": 1}, "status": "passed"},
                            "steps/4": {"defined": {"j": "J1"}, "status": "passed"}}
    assert out.unsafe_outcome == {"steps/2": "unknown"}
    assert out.answers == {"steps/2": {"status": 504}, "steps/4": {"status": 201}}
    assert out.unsafe_sent == {"steps/2", "steps/4"}
    assert stuck == ["steps/4", "steps/5", "steps/6"]
    assert out.resumed_keys == set()
    same, none = state.remapped(lambda key: key)
    assert (same, none) == (state, [])


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


def test_an_answer_is_kept_and_rebuilt_as_it_was() -> None:
    from runner.connectors.response import Response
    from runner.journal import RestoredResponse, response_record, restored_response

    answer = Response(201, {"content-type": "application/json"}, b'{"a": [1, "\xc3\xa4"]}',
                      url="http://x/things?q=1", method="POST", elapsed_ms=12.5,
                      decode="json", error=None, attempts=2)
    record = response_record(answer)
    assert record == {"status": 201, "headers": {"content-type": "application/json"},
                      "url": "http://x/things?q=1", "method": "POST", "decode": "json",
                      "error": None, "attempts": 2, "elapsed_ms": 12.5,
                      "body": '{"a": [1, "ä"]}', "dropped_bytes": 0}
    back = restored_response(record)
    assert isinstance(back, RestoredResponse)
    assert (back.status_code, back.headers, back.url, back.method, back.decode, back.error,
            back.attempts, back.elapsed_ms, back.dropped_bytes) == \
        (201, {"content-type": "application/json"}, "http://x/things?q=1", "POST", "json",
         None, 2, 12.5, 0)
    assert back.json == {"a": [1, "ä"]} and back.ok
    failed = restored_response({"status": 400, "body": "no", "error": "HTTP 400: no"})
    assert (failed.ok, failed.text, failed.decode, failed.attempts, failed.url, failed.method,
            failed.elapsed_ms, failed.headers, failed.dropped_bytes) == \
        (False, "no", "auto", 1, "", "", 0.0, {}, 0)


def test_a_body_over_the_cap_is_not_kept() -> None:
    from runner.connectors.response import Response
    from runner.journal import MAX_KEPT_BODY, response_record, restored_response

    at_cap = Response(200, {}, b"x" * MAX_KEPT_BODY)
    assert response_record(at_cap)["body"] == "x" * MAX_KEPT_BODY
    over = Response(200, {}, b"x" * (MAX_KEPT_BODY + 1))
    record = response_record(over)
    assert (record["body"], record["dropped_bytes"]) == ("", MAX_KEPT_BODY + 1)
    back = restored_response(record)
    assert (back.content, back.json, back.dropped_bytes) == (b"", None, MAX_KEPT_BODY + 1)


def test_finished_keeps_what_a_later_step_reads_redacted(store: Store) -> None:
    from runner.connectors.response import Response

    redactor = Redactor()
    redactor.add("s3cr3t-value")
    journal = Journal(store, "r1", redactor)
    answer = Response(200, {}, b'{"token": "s3cr3t-value"}')
    journal.finished("steps/0", "passed", {"t": "s3cr3t-value"}, {"t": "x", "response": answer})
    journal.finished("steps/1", "skipped", {}, None, skipped_reason="when: False")
    journal.finished("steps/2", "passed", {}, {"n": 1}, response=answer)
    journal.finished("steps/3[0]", "passed", {}, {}, iteration=True)  # safe: the loop's entry
    journal.unsafe_keys.add("steps/3[1]")
    journal.finished("steps/3[1]", "passed", {}, {}, iteration=True)
    rows = {e.step_key: (e.status, e.data) for e in store.entries("r1")}
    assert set(rows) == {"steps/0", "steps/1", "steps/2", "steps/3[1]"}
    status, first = rows["steps/0"]
    assert status == "passed"
    assert first["defined"] == {"t": "***"} and first["steps"] == {"t": "x"}
    assert first["steps_response"] is True
    assert first["response"]["body"] == '{"token": "***"}'
    assert rows["steps/1"] == ("skipped", {"defined": {}, "steps": None,
                                           "skipped_reason": "when: False"})
    assert "steps_response" not in rows["steps/2"][1]
    assert rows["steps/2"][1]["steps"] == {"n": 1}
    assert rows["steps/2"][1]["response"]["status"] == 200
    assert rows["steps/3[1]"] == ("passed", {"defined": {}, "steps": {}})

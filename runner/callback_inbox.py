"""What waits in the store for a waiting step: callbacks that arrived, approvals given, and the
``waiting`` marks the steps leave. All are journal rows of the run, at the step's key:

    waiting   a step began to wait (``data``: for what, until when, the question of an approval)
    callback  a POST to a callback URL: ``received`` (``data.body``) or ``refused`` (why)
    approval  ``approved`` or ``rejected`` (``data``: by whom, when)

Rows written here touch neither the run's heartbeat nor its owner: the listener and ``runner
approve`` are other processes and must not make a dead run look alive.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from runner.secrets import Redactor
from runner.store import Store

MAX_BODY = 1 << 20  # bytes of a callback's body that are accepted
_INSERT = ("INSERT INTO journal (run_id, step_key, event, status, data, at) "
           "VALUES (:run_id, :step_key, :event, :status, :data, :at)")

# the runs of this process that mint callbacks, with their redactors: an in-process listener
# masks a body before it is stored (one received by `runner callbacks` is masked when taken)
_redactors: dict[str, Redactor] = {}
_lock = threading.Lock()


def watch(run_id: str, redactor: Redactor) -> None:
    with _lock:
        _redactors[run_id] = redactor


def forget(run_id: str) -> None:
    """The run took its callback: a later one (another callback step) is masked when taken."""
    with _lock:
        _redactors.pop(run_id, None)


def redactor_of(run_id: str) -> Redactor | None:
    with _lock:
        return _redactors.get(run_id)


@dataclass
class Row:
    """A callback received for a run, as the store keeps it."""
    id: int
    status: str | None
    data: dict[str, Any]
    at: float


def add(store: Store, run_id: str, key: str, event: str, status: str,
        data: dict[str, Any]) -> None:
    row = {"run_id": run_id, "step_key": key, "event": event, "status": status,
           "data": json.dumps(data, default=str), "at": time.time()}
    store.atomically(lambda c: c.execute(_INSERT, row))


def rows(store: Store, run_id: str, key: str, event: str) -> list[Row]:
    """The rows of ``event`` at ``key``, oldest first."""
    with store.db.connect() as c:
        got = c.execute("SELECT id, status, data, at FROM journal WHERE run_id = :run_id AND "
                        "step_key = :key AND event = :event ORDER BY id",
                        {"run_id": run_id, "key": key, "event": event})
        return [Row(int(r["id"]), r["status"], json.loads(r["data"]), float(r["at"]))
                for r in got]


def answered(store: Store, run_id: str) -> bool:
    """Whether what a parked run waits for has come: its last park is a ``wait-for``'s or an
    ``approve``'s (the step of its last ``waiting`` row) and its callback or answer came. A
    worker that parks a run asks this once the run is ``parked``, and wakes it now if so: an
    answer that came between the step's last look and the park found the run still held, and
    did not wake it."""
    with store.db.connect() as c:
        last = {r["event"]: (r["step_key"], json.loads(r["data"] or "{}")) for r in c.execute(
            "SELECT step_key, event, data FROM journal WHERE run_id = :run_id AND event IN "
            "('parked', 'waiting') ORDER BY id", {"run_id": run_id})}
    if "parked" not in last or "waiting" not in last or last["parked"][0] != last["waiting"][0]:
        return False
    key, data = last["waiting"]
    if data.get("for") == "approval":
        return bool(rows(store, run_id, key, "approval"))
    hook = data.get("hook")
    return data.get("for") == "callback" and isinstance(hook, str) and \
        any(r.status == "received" for r in rows(store, run_id, hook, "callback"))


def replace(store: Store, row_id: int, data: dict[str, Any]) -> None:
    """Rewrite a row's data (a body masked with the run's secrets once the run takes it)."""
    text = json.dumps(data, default=str)
    store.atomically(lambda c: c.execute("UPDATE journal SET data = :data WHERE id = :id",
                                         {"data": text, "id": row_id}))


def receive(store: Store, run_id: str, key: str, body: bytes, content_type: str,
            sender: str) -> tuple[int, str]:
    """Keep a callback's body for the run; a second one is refused (and recorded)."""
    run = store.get_run(run_id)
    if run is None:
        return 404, "no such run"
    if any(r.status == "received" for r in rows(store, run_id, key, "callback")):
        add(store, run_id, key, "callback", "refused",
            {"reason": "a second POST to a callback URL already used", "from": sender})
        return 409, "this callback URL was used already"
    if run["status"] == "passed":  # a failed or interrupted run may still be resumed
        add(store, run_id, key, "callback", "refused",
            {"reason": f"the run has ended ({run['status']})", "from": sender})
        return 409, f"the run has ended ({run['status']})"
    text = body.decode("utf-8", "replace")
    redactor = redactor_of(run_id)
    if redactor is not None:
        text = redactor.redact(text)
    add(store, run_id, key, "callback", "received",
        {"body": text, "content_type": content_type, "from": sender,
         "masked": redactor is not None})
    return 200, "received"


def refused(store: Store, run_id: str, key: str, reason: str, sender: str) -> None:
    """Record a refused callback on the run it names, when there is such a run."""
    if run_id and key and store.get_run(run_id) is not None:
        add(store, run_id, key, "callback", "refused", {"reason": reason, "from": sender})

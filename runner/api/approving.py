"""``runner.api.approve`` and ``reject``: answer a run waiting at an `approve` step, from any
process that shares its store (:mod:`runner.approvals`)."""

from __future__ import annotations

from typing import Any

from runner.approvals import decide, pending, to_come
from runner.store import Store


def _wake(db: Store, run_id: str, broker: str, queue: str) -> bool:
    """Hand a parked run to the workers now, to take its answer (as `runner callbacks` does
    for a callback); False if it was taken up meanwhile."""
    from runner.distributed import hand_over, make_app
    from runner.orphans import Orphan

    row = db.get_run(run_id)
    if row is None or row["status"] != "parked":
        return False
    app = make_app(broker, queue=queue)
    try:
        hand_over(app, queue, Orphan(run_id, "parked", row["file"], row["environment"],
                                     row.get("inputs") or {}, row.get("dedup_key"),
                                     row["heartbeat"]))
    finally:
        app.close()
    return True


def approve(run_id: str, *, by: str | None = None, store: Store | str | None = None,
            show: bool = False, broker: str | None = None,
            queue: str = "runner") -> dict[str, Any]:
    """Approve the step ``run_id`` waits at (``show``: only say what it waits for). Returns
    the run, the step, its question, the plan of the unsafe calls to come (text lines, secrets
    masked), who answered (the OS user unless ``by``) and ``parked``: the run is parked on
    workers (``woken``: handed to the workers of ``queue`` through ``broker`` now)."""
    return _answer(run_id, True, by, store, show, broker, queue)


def reject(run_id: str, *, by: str | None = None, store: Store | str | None = None,
           show: bool = False, broker: str | None = None,
           queue: str = "runner") -> dict[str, Any]:
    """Reject it: the step fails, the run stops there (its finally steps run)."""
    return _answer(run_id, False, by, store, show, broker, queue)


def _answer(run_id: str, approved: bool, by: str | None, store: Store | str | None,
            show: bool, broker: str | None, queue: str) -> dict[str, Any]:
    db = store if isinstance(store, Store) else Store(store)
    try:
        wait = pending(db, run_id)
        out: dict[str, Any] = {"run_id": run_id, "step": wait.step, "question": wait.question,
                               "until": wait.until, "to_come": to_come(wait), "by": None,
                               "answer": None, "parked": wait.row["status"] == "parked",
                               "woken": False}
        if not show:
            out["by"] = decide(db, wait, approved, by)
            out["answer"] = "approved" if approved else "rejected"
            if out["parked"] and broker:
                out["woken"] = _wake(db, run_id, broker, queue)
        return out
    finally:
        if db is not store:
            db.close()

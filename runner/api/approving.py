"""``runner.api.approve`` and ``reject``: answer a run waiting at an `approve` step, from any
process that shares its store (:mod:`runner.approvals`)."""

from __future__ import annotations

from typing import Any

from runner.approvals import decide, pending, to_come
from runner.store import Store


def approve(run_id: str, *, by: str | None = None, store: Store | str | None = None,
            show: bool = False) -> dict[str, Any]:
    """Approve the step ``run_id`` waits at (``show``: only say what it waits for). Returns
    the run, the step, its question, the plan of the unsafe calls to come (text lines, secrets
    masked) and who answered (the OS user unless ``by``)."""
    return _answer(run_id, True, by, store, show)


def reject(run_id: str, *, by: str | None = None, store: Store | str | None = None,
           show: bool = False) -> dict[str, Any]:
    """Reject it: the step fails, the run stops there (its finally steps run)."""
    return _answer(run_id, False, by, store, show)


def _answer(run_id: str, approved: bool, by: str | None, store: Store | str | None,
            show: bool) -> dict[str, Any]:
    db = store if isinstance(store, Store) else Store(store)
    try:
        wait = pending(db, run_id)
        out: dict[str, Any] = {"run_id": run_id, "step": wait.step, "question": wait.question,
                               "until": wait.until, "to_come": to_come(wait), "by": None,
                               "answer": None}
        if not show:
            out["by"] = decide(db, wait, approved, by)
            out["answer"] = "approved" if approved else "rejected"
        return out
    finally:
        if db is not store:
            db.close()

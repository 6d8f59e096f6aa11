"""``runner.api.undo``: undo a recorded run's completed steps on request (``runner undo``).

Opens the store and hands over to :func:`runner.resume.undo_asked`, which claims the run as
``runner resume`` does and runs its undo steps (:mod:`runner.undo`) with
:func:`runner.api.run`'s console and reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.api.running import run
from runner.ownership import STALE_AFTER
from runner.results import RunResult
from runner.resume import undo_asked
from runner.store import Store


def undo(run_id: str, *, store: Store | str | None = None,
         inputs: Mapping[str, Any] | None = None, force: bool = False,
         stale_after: float | None = None, root: str | Path | None = None,
         **kw: Any) -> RunResult:
    """Run the undo steps of ``run_id``'s completed steps, the last first, or go on with an
    undo that was stopped; the undo steps done already are not sent again.

    Refused (:class:`~runner.errors.InvalidInput`) for a run that is not in the store, has
    nothing to undo, was undone already, whose playbook changed, or that looks alive (unless
    ``force``). The result's ``undo_status`` says how it went (``undone``,
    ``partly-undone``, ``interrupted``); its ``status`` stays the run's. ``kw`` go to
    :func:`runner.api.run` (quiet, report_json, junit, ...).
    """
    db = store if isinstance(store, Store) else Store(store)
    try:
        return undo_asked(db, run_id, inputs=inputs, force=force,
                          stale_after=STALE_AFTER if stale_after is None else stale_after,
                          root=root, start=run, **kw)
    finally:
        if db is not store:
            db.close()

"""``runner.api.resume``, ``resume_batch``, ``resume_stale``: taking recorded runs up again.

Each opens the store, hands over to the one room that takes a recorded run up
(:mod:`runner.resume`, through :mod:`runner.batch_resume` and :mod:`runner.resume_stale` for
many), and closes the store; ``resume`` runs with :func:`runner.api.run`'s console and reports.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from runner import tracing
from runner.api.running import run
from runner.batch_resume import RowOutcome
from runner.batch_resume import resume_batch as finish_batch
from runner.ownership import STALE_AFTER
from runner.results import RunResult
from runner.resume import resume_asked
from runner.resume_stale import Resumed
from runner.resume_stale import resume_stale as resume_orphans
from runner.store import Store


def resume(run_id: str, *, store: Store | str | None = None,
           inputs: Mapping[str, Any] | None = None, force: bool = False,
           remap: bool = False, stale_after: float | None = None,
           root: str | Path | None = None, **kw: Any) -> RunResult:
    """Continue an interrupted, crashed, errored or failed run: finished steps are not run
    again.

    The run is claimed first, as a worker claims it (:mod:`runner.resume`): a run that looks
    alive is refused unless ``force``; two resumes at once, or a resume and a worker taking the
    run over, cannot both run it. Every write of this attempt is fenced by its ownership and a
    heartbeat keeps the run looking alive while it waits in a poll.

    A run whose playbook (or a playbook it includes) changed since it was recorded is refused,
    before it is claimed, with what changed; ``remap`` carries its finished steps over to the
    edited playbook by step id and content instead (:mod:`runner.fingerprint`). ``kw`` go to
    :func:`runner.api.run` (quiet, report_json, junit, ...).
    """
    db = store if isinstance(store, Store) else Store(store)
    try:
        return resume_asked(db, run_id, inputs=inputs, force=force, remap=remap,
                            stale_after=STALE_AFTER if stale_after is None else stale_after,
                            root=root, start=run, **kw)
    finally:
        if db is not store:
            db.close()


def resume_batch(batch_id: str, *, store: str | None = None,
                 inputs: Mapping[str, Any] | None = None, concurrency: int = 10,
                 force: bool = False, on_row: Callable[[RowOutcome], None] | None = None,
                 report_json: str | Path | None = None,
                 trace: bool | str | None = None) -> list[RowOutcome]:
    """Finish a stopped batch (``runner resume --batch``): see
    :func:`runner.batch_resume.resume_batch`; ``report_json``: each row's outcome as JSON;
    ``trace``: as :func:`runner.api.run`'s."""
    db = Store(store)
    try:
        with tracing.session(trace):
            outcomes = finish_batch(batch_id, store=db, inputs=inputs,
                                    concurrency=concurrency, force=force, on_row=on_row)
    finally:
        db.close()
    if report_json:
        Path(report_json).write_text(json.dumps(
            [{"row": o.row + 1, "run_id": o.run_id, "outcome": o.outcome, "status": o.status,
              "detail": o.detail} for o in outcomes], indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8")
    return outcomes


def resume_stale(*, store: str | None = None, stale_after: float | None = None,
                 broker: str | None = None, queue: str = "runner", concurrency: int = 4,
                 inputs: Mapping[str, Any] | None = None,
                 on_result: Any = None, trace: bool | str | None = None) -> list[Resumed]:
    """Resume here every run nobody is working on (:mod:`runner.resume_stale`), up to
    ``concurrency`` at a time; with ``broker``, queued runs that still have a message in it
    are left to the workers. Returns (orphan, result, error) per run, in the order found;
    ``on_result`` is called with the same as each ends; ``trace``: as
    :func:`runner.api.run`'s."""
    db = Store(store)
    try:
        with tracing.session(trace):
            return resume_orphans(db, stale_after=STALE_AFTER if stale_after is None
                                  else stale_after, broker=broker, queue=queue,
                                  concurrency=concurrency, inputs=inputs, on_result=on_result)
    finally:
        db.close()

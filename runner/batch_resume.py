"""``runner resume --batch ID``: finish a batch that was stopped, row by row.

The rows that passed are left alone, the rows that did not end are resumed
(:func:`runner.resume.resume_asked`), and the rows whose outcome cannot be known from the
store (a request not safe to repeat, sent with no answer) or that failed are listed, not sent
again: each row says what became of it (:class:`RowOutcome`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from runner.errors import InvalidInput, RunnerError
from runner.journal import ResumeState
from runner.ownership import STALE_AFTER
from runner.park import THREADS, Pool
from runner.results import FAILED, PASSED, RunResult
from runner.resume import resume_asked
from runner.store import Store


@dataclass
class RowOutcome:
    """What ``runner resume --batch`` did with one row of the batch."""

    row: int
    run_id: str
    outcome: str  # passed-before | resumed | unknown | failed-before | running | not-resumed
    status: str  # the run's status after this
    detail: str = ""
    result: RunResult | None = None


def resume_batch(batch_id: str, *, store: Store, inputs: Mapping[str, Any] | None = None,
                 concurrency: int = 10, force: bool = False,
                 on_row: Callable[[RowOutcome], None] | None = None) -> list[RowOutcome]:
    """Finish a batch that was stopped (killed, Ctrl-C): run the rows that did not end.

    Rows that passed are left alone. Rows that did not end — never started (``queued``),
    ``interrupted``, or ``running`` with a stale heartbeat (``force``: even a fresh one) — are
    resumed (:func:`runner.resume.resume_asked`: finished steps restored, nothing sent twice). A row
    whose journal holds a request not safe to repeat with an unknown outcome is listed and not
    resumed (``runner resume RUN_ID`` it, after checking on the vendor's side, or let its
    ``resume-check`` find out); a row that failed is listed (``runner resume RUN_ID`` tries it
    again). ``inputs``: given to every resumed row (secret inputs are not stored).
    """
    rows = store.batch_runs(batch_id)
    if not rows:
        raise InvalidInput(f"no batch {batch_id} in the run store {store.url}",
                           hint="runner run --inputs-from prints its batch id when it starts; "
                           "--store picks the store")
    outcomes: list[RowOutcome] = []
    lock = threading.Lock()

    def done(o: RowOutcome) -> None:
        with lock:
            outcomes.append(o)
            if on_row is not None:
                on_row(o)

    todo: list[dict[str, Any]] = []
    now = time.time()
    for row in rows:
        run_id, status, index = row["run_id"], row["status"], int(row["batch_row"] or 0)
        if status in (PASSED, "skipped"):
            done(RowOutcome(index, run_id, "passed-before", status))
            continue
        if status in ("running", "waiting") and not force and \
                now - (row["heartbeat"] or 0) < STALE_AFTER:
            done(RowOutcome(index, run_id, "running", status,
                            "it looks alive; --force if its process is gone"))
            continue
        state = ResumeState.load(store, run_id)
        unknown = sorted(k for k, v in state.unsafe_outcome.items() if v == "unknown")
        if unknown:
            done(RowOutcome(index, run_id, "unknown", status,
                            f"a request not safe to repeat ({unknown[0]}) was sent and "
                            f"{state.why(unknown[0])}; it is not sent again"))
            continue
        if status == FAILED:
            done(RowOutcome(index, run_id, "failed-before", status, row.get("error") or ""))
            continue
        todo.append(row)

    def one(row: dict[str, Any], cancel: threading.Event) -> RowOutcome:
        index = int(row["batch_row"] or 0)
        try:
            result = resume_asked(store, row["run_id"], inputs=inputs, force=force,
                                  cancel=cancel)
        except RunnerError as e:
            return RowOutcome(index, row["run_id"], "not-resumed", row["status"],
                              e.with_hint())
        return RowOutcome(index, row["run_id"], "resumed", result.status,
                          result.error or "", result)

    # resumed runs wait parked; Ctrl-C or SIGTERM stops the rows under way as a batch's are
    # (interrupted, resumable), not left running for nobody
    with Pool(min(concurrency, len(todo), THREADS)) as pool:
        pool.each(one, todo, concurrency, done)
    outcomes.sort(key=lambda o: o.row)
    return outcomes

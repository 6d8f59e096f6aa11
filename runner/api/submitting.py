"""``runner.api.submit``: runs handed to ``runner worker``s through a broker (``runner run
--broker``), and, with ``wait``, waiting until they have ended."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.batch_rows import read_rows
from runner.errors import InvalidInput
from runner.ownership import FINAL
from runner.submit import Submitter


@dataclass
class Submitted:
    """The runs handed over, and (after a wait) how each stands and its error."""

    run_ids: list[str]
    waited: bool = False
    statuses: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str | None] = field(default_factory=dict)

    @property
    def unfinished(self) -> list[str]:
        """The runs that had not ended when the wait stopped."""
        return [i for i in self.run_ids if self.statuses.get(i) not in FINAL]


def submit(path: str | Path, *, broker: str, env: str | None = "sandbox",
           inputs: Mapping[str, Any] | None = None, inputs_from: str | Path | None = None,
           store: str | None = None, queue: str = "runner", wait: bool = False,
           timeout: float | None = None, report_json: str | Path | None = None,
           on_queued: Callable[[list[str]], None] | None = None) -> Submitted:
    """Record one run (or one per row of ``inputs_from``, ``inputs`` their defaults) as queued
    and hand it to the workers of ``queue``; ``on_queued(run_ids)`` once all are handed over.
    ``wait``: until they have ended, or ``timeout``; ``report_json``: how each ended, as
    JSON."""
    rows = [dict(inputs or {})]
    if inputs_from is not None:
        rows = [{**(inputs or {}), **row} for row in read_rows(inputs_from)]
        if not rows:
            raise InvalidInput(f"{inputs_from} holds no rows of inputs", hint="one run per row")
    with Submitter(broker, store, queue=queue) as submitter:
        done = Submitted([submitter.submit(path, env, row) for row in rows])
        if on_queued is not None:
            on_queued(done.run_ids)
        if not wait:
            return done
        done.waited = True
        done.statuses = submitter.wait(done.run_ids, timeout)
        done.errors = {i: (submitter.store.get_run(i) or {}).get("error") for i in done.run_ids}
    if report_json:
        Path(report_json).write_text(json.dumps(
            [{"run_id": i, "status": done.statuses.get(i), "error": done.errors.get(i)}
             for i in done.run_ids], indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return done

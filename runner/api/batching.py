"""``runner.api.run_batch``: one run per row of a file of inputs (``runner run --inputs-from``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from runner import tracing
from runner.batch import OnResult
from runner.batch import run_batch as run_rows
from runner.batch_rows import read_rows
from runner.batch_summary import BatchSummary
from runner.errors import InvalidInput


def run_batch(path: str | Path, *, inputs_from: str | Path, env: str | None = "sandbox",
              inputs: Mapping[str, Any] | None = None, concurrency: int = 10,
              store: str | None = None, again: bool = False, root: str | Path | None = None,
              report_json: str | Path | None = None,
              on_start: Callable[[BatchSummary], None] | None = None,
              on_result: OnResult | None = None,
              trace: bool | str | None = None) -> BatchSummary:
    """Run the playbook at ``path`` once per row of ``inputs_from`` (``inputs`` are every row's
    defaults), ``concurrency`` at a time: :func:`runner.batch.run_batch`, whose ``on_start``
    and ``on_result`` these are. ``report_json``: the summary as JSON. ``trace``: as
    :func:`runner.api.run`'s, one trace per row's run."""
    rows = [{**(inputs or {}), **row} for row in read_rows(inputs_from)]
    if not rows:
        raise InvalidInput(f"{inputs_from} holds no rows of inputs", hint="one run per row")
    with tracing.session(trace):
        summary = run_rows(path, env=env, rows=rows, concurrency=concurrency, store=store,
                           on_result=on_result, on_start=on_start, again=again, root=root)
    if report_json:
        summary.write_json(report_json)
    return summary

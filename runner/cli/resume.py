"""`runner resume`: continue a crashed, interrupted or failed run, or a stopped batch."""

from __future__ import annotations

from typing import Any

import click

from runner.cli.common import (
    echo,
    exit_as_run,
    guarded,
    inputs_option,
    main,
    parse_inputs,
    sigterm_as_ctrl_c,
    store_option,
)


@main.command()
@click.argument("run_id", required=False)
@click.option("--batch", "batch_id", metavar="ID",
              help="finish a stopped `runner run --inputs-from` batch: run the rows that did "
              "not end (rows with an unknown outcome are listed, not sent again)")
@click.option("--concurrency", "-c", default=10, show_default=True, metavar="N",
              help="with --batch: rows resumed at once")
@inputs_option
@store_option
@click.option("--report-json", type=click.Path(), help="write a JSON report here")
@click.option("--junit", type=click.Path(), help="write a JUnit XML report here")
@click.option("--force", is_flag=True, help="resume even if the run looks alive")
@click.option("--remap", is_flag=True,
              help="the playbook was edited since the run started: carry its finished steps "
              "over by step id and content (changed steps run again; a call not safe to repeat "
              "is never sent again)")
@guarded
def resume(run_id: str | None, batch_id: str | None, concurrency: int, inputs: tuple[str, ...],
           store: str | None, report_json: str | None, junit: str | None, force: bool,
           remap: bool) -> None:
    """Continue a crashed, interrupted or failed run (or, with --batch, a stopped batch);
    finished steps are not sent again."""
    from runner import api
    from runner.errors import InvalidInput

    if (run_id is None) == (batch_id is None):
        raise InvalidInput("give a RUN_ID or --batch ID (one of them)",
                           hint="runner history lists runs; a batch prints its id when it starts")
    sigterm_as_ctrl_c()
    if batch_id is not None:
        if junit or remap:
            raise InvalidInput(f"{'--junit' if junit else '--remap'} goes with one RUN_ID, "
                               "not --batch", hint="runner resume RUN_ID --remap for one row")
        _resume_batch(batch_id, store, parse_inputs(inputs), concurrency, force, report_json)
        return
    assert run_id is not None
    result = api.resume(run_id, store=store, inputs=parse_inputs(inputs), force=force,
                        remap=remap, report_json=report_json, junit=junit)
    exit_as_run(result)


SAID = {"passed-before": "passed before", "failed-before": "failed before (runner resume RUN_ID "
        "tries it again)", "unknown": "outcome unknown", "running": "still running",
        "not-resumed": "not resumed"}


def _resume_batch(batch_id: str, store: str | None, inputs: dict[str, str], concurrency: int,
                  force: bool, report_json: str | None) -> None:
    import json
    import sys
    from pathlib import Path

    from runner import api

    def on_row(row: Any) -> None:  # a runner.batch.RowOutcome, as each row ends
        said = f"resumed: {row.status}" if row.outcome == "resumed" else \
            SAID.get(row.outcome, row.status)
        detail = f": {row.detail}" if row.detail else ""
        echo(f"row {row.row + 1}  {row.run_id}  {said}{detail}")

    outcomes = api.resume_batch(batch_id, store=store, inputs=inputs, concurrency=concurrency,
                                force=force, on_row=on_row)
    counts: dict[str, int] = {}
    for o in outcomes:
        key = f"resumed, {o.status}" if o.outcome == "resumed" else SAID[o.outcome].split(" (")[0]
        counts[key] = counts.get(key, 0) + 1
    echo(f"batch {batch_id}: {len(outcomes)} rows: "
         + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    unknown = [o for o in outcomes if o.outcome == "unknown"]
    if unknown:
        echo("  rows with an unknown outcome were not sent again: check on the vendor's "
             f"side, then runner resume RUN_ID (first: {unknown[0].run_id})")
    if report_json:
        Path(report_json).write_text(json.dumps(
            [{"row": o.row + 1, "run_id": o.run_id, "outcome": o.outcome, "status": o.status,
              "detail": o.detail} for o in outcomes], indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8")
    sys.exit(0 if all(o.status == "passed" for o in outcomes) else 1)

"""`runner resume`: continue a crashed, interrupted, errored or failed run, a stopped batch
(``--batch``), or every run nobody is working on (``--stale``)."""

from __future__ import annotations

import sys
from typing import Any

import click

from runner.cli.common import (
    broker_option,
    echo,
    inputs_option,
    main,
    parse_inputs,
    queue_option,
    root_option,
    stale_option,
    store_option,
    trace_option,
)
from runner.cli.guard import exit_as_run, guarded, sigterm_as_ctrl_c
from runner.printable import printable


@main.command()
@click.argument("run_id", required=False)
@click.option("--batch", "batch_id", metavar="ID",
              help="finish a stopped `runner run --inputs-from` batch: run the rows that did "
              "not end (rows with an unknown outcome are listed, not sent again)")
@click.option("--stale", is_flag=True,
              help="instead of RUN_ID: every run nobody is working on (running with no "
              "heartbeat for --stale-after seconds, or queued that long with no message)")
@click.option("--concurrency", "-c", type=int, default=None, metavar="N",
              help="with --batch or --stale: runs resumed at once (default 10 with --batch, "
              "4 with --stale)")
@inputs_option
@store_option
@click.option("--report-json", type=click.Path(), help="write a JSON report here")
@click.option("--junit", type=click.Path(), help="write a JUnit XML report here")
@click.option("--force", is_flag=True, help="resume even if the run looks alive")
@click.option("--remap", is_flag=True,
              help="the playbook was edited since the run started: carry its finished steps "
              "over by step id and content (changed steps run again; a call not safe to repeat "
              "is never sent again)")
@stale_option
@broker_option
@queue_option
@root_option
@trace_option
@guarded
def resume(run_id: str | None, batch_id: str | None, stale: bool, concurrency: int | None,
           inputs: tuple[str, ...], store: str | None, report_json: str | None,
           junit: str | None, force: bool, remap: bool, stale_after: float,
           broker: str | None, queue: str, root: str | None, trace: bool) -> None:
    """Continue a crashed, interrupted, errored or failed run (or, with --batch, a stopped
    batch; with --stale, every run nobody works on); finished steps are not sent again."""
    from runner import api
    from runner.errors import InvalidInput

    if sum(x for x in (run_id is not None, batch_id is not None, stale)) != 1:
        raise InvalidInput("give one of RUN_ID, --batch ID or --stale",
                           hint="runner history lists runs; a batch prints its id when it starts")
    sigterm_as_ctrl_c()
    if stale:
        extra = [n for n, v in (("--force", force), ("--remap", remap), ("--root", root),
                                ("--report-json", report_json), ("--junit", junit)) if v]
        if extra:
            raise InvalidInput(f"--stale resumes every stale run; not with {', '.join(extra)}",
                               hint="runner resume RUN_ID resumes one run")
        _resume_stale(store, stale_after, broker, queue, concurrency or 4, parse_inputs(inputs),
                      trace)
        return
    if batch_id is not None:
        extra = [n for n, v in (("--junit", junit), ("--remap", remap), ("--root", root)) if v]
        if extra:
            raise InvalidInput(f"{extra[0]} goes with one RUN_ID, not --batch",
                               hint=f"runner resume RUN_ID {extra[0]} ... for one row")
        _resume_batch(batch_id, store, parse_inputs(inputs), concurrency or 10, force,
                      report_json, trace)
        return
    assert run_id is not None
    result = api.resume(run_id, store=store, inputs=parse_inputs(inputs), force=force,
                        remap=remap, report_json=report_json, junit=junit, root=root,
                        trace=trace or None)
    exit_as_run(result)


SAID = {"passed-before": "passed before", "failed-before": "failed before (runner resume RUN_ID "
        "tries it again)", "unknown": "outcome unknown", "running": "still running",
        "not-resumed": "not resumed"}


def _resume_batch(batch_id: str, store: str | None, inputs: dict[str, str], concurrency: int,
                  force: bool, report_json: str | None, trace: bool) -> None:
    from runner import api

    def on_row(row: Any) -> None:  # a runner.batch_resume.RowOutcome, as each row ends
        said = f"resumed: {row.status}" if row.outcome == "resumed" else \
            SAID.get(row.outcome, row.status)
        detail = f": {row.detail}" if row.detail else ""
        echo(printable(f"row {row.row + 1}  {row.run_id}  {said}{detail}"))

    outcomes = api.resume_batch(batch_id, store=store, inputs=inputs, concurrency=concurrency,
                                force=force, on_row=on_row, report_json=report_json,
                                trace=trace or None)
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
    sys.exit(0 if all(o.status == "passed" for o in outcomes) else 1)


def _resume_stale(store: str | None, stale_after: float, broker: str | None, queue: str,
                  concurrency: int, inputs: dict[str, str], trace: bool) -> None:
    from runner import api

    def say(orphan: Any, result: Any, error: str | None) -> None:
        was = f"run {orphan.run_id} (was {orphan.status})"
        if result is None:
            echo(printable(f"{was}: not resumed: {error}"))
        else:  # a server's error may hold terminal control sequences
            echo(printable(f"{was}: {result.status}"
                           + (f": {result.error}" if result.error else "")))

    done = api.resume_stale(store=store, stale_after=stale_after, broker=broker, queue=queue,
                            concurrency=concurrency, inputs=inputs, on_result=say,
                            trace=trace or None)
    if not done:
        echo(f"no stale runs: none running without a heartbeat for {stale_after:g} s, "
             f"none queued that long" + (" without a message" if broker else ""))
        return
    passed = sum(1 for _, r, _e in done if r is not None and r.status == "passed")
    echo(f"{len(done)} stale run(s): {passed} passed, {len(done) - passed} not")
    sys.exit(0 if passed == len(done) else 1)

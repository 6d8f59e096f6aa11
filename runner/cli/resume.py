"""`runner resume`: continue a crashed, interrupted or failed run, or (``--stale``) every run
nobody is working on."""

from __future__ import annotations

import sys
from typing import Any

import click

from runner.cli.common import (
    broker_option,
    exit_as_run,
    guarded,
    inputs_option,
    main,
    parse_inputs,
    queue_option,
    stale_option,
    store_option,
)


@main.command()
@click.argument("run_id", required=False)
@inputs_option
@store_option
@click.option("--report-json", type=click.Path(), help="write a JSON report here")
@click.option("--junit", type=click.Path(), help="write a JUnit XML report here")
@click.option("--force", is_flag=True, help="resume even if the run looks alive")
@click.option("--stale", is_flag=True,
              help="instead of RUN_ID: every run nobody is working on (running with no "
              "heartbeat for --stale-after seconds, or queued that long with no message)")
@stale_option
@broker_option
@queue_option
@click.option("--concurrency", "-c", default=4, show_default=True, metavar="N",
              help="with --stale: runs resumed at once")
@guarded
def resume(run_id: str | None, inputs: tuple[str, ...], store: str | None,
           report_json: str | None, junit: str | None, force: bool, stale: bool,
           stale_after: float, broker: str | None, queue: str, concurrency: int) -> None:
    """Continue a crashed, interrupted or failed run; finished steps are not sent again."""
    from runner import api
    from runner.errors import InvalidInput

    if stale:
        extra = [n for n, v in (("RUN_ID", run_id), ("--force", force),
                                ("--report-json", report_json), ("--junit", junit)) if v]
        if extra:
            raise InvalidInput(f"--stale resumes every stale run; not with {', '.join(extra)}",
                               hint="runner resume RUN_ID resumes one run")
        _resume_stale(store, stale_after, broker, queue, concurrency, parse_inputs(inputs))
        return
    if run_id is None:
        raise InvalidInput("runner resume needs a RUN_ID, or --stale",
                           hint="runner history lists the runs")
    result = api.resume(run_id, store=store, inputs=parse_inputs(inputs), force=force,
                        report_json=report_json, junit=junit)
    exit_as_run(result.status)


def _resume_stale(store: str | None, stale_after: float, broker: str | None, queue: str,
                  concurrency: int, inputs: dict[str, str]) -> None:
    from runner import api

    def say(orphan: Any, result: Any, error: str | None) -> None:
        was = f"run {orphan.run_id} (was {orphan.status})"
        if result is None:
            click.echo(f"{was}: not resumed: {error}")
        else:
            click.echo(f"{was}: {result.status}" + (f": {result.error}" if result.error else ""))

    done = api.resume_stale(store=store, stale_after=stale_after, broker=broker, queue=queue,
                            concurrency=concurrency, inputs=inputs, on_result=say)
    if not done:
        click.echo(f"no stale runs: none running without a heartbeat for {stale_after:g} s, "
                   f"none queued that long" + (" without a message" if broker else ""))
        return
    passed = sum(1 for _, r, _e in done if r is not None and r.status == "passed")
    click.echo(f"{len(done)} stale run(s): {passed} passed, {len(done) - passed} not")
    sys.exit(0 if passed == len(done) else 1)

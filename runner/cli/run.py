"""`runner run`: one run here, one per row of a file (``--inputs-from``), or on workers
(``--broker``)."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from runner.cli.common import (
    env_option,
    inputs_option,
    main,
    parse_inputs,
    root_option,
    store_option,
    trace_option,
)
from runner.cli.guard import exit_as_run, guarded, sigterm_as_ctrl_c
from runner.printable import printable


@main.command()
@click.argument("playbook", type=click.Path())
@env_option
@inputs_option
@click.option("--report-json", type=click.Path(), help="write a JSON report here")
@click.option("--junit", type=click.Path(), help="write a JUnit XML report here")
@click.option("--report-html", type=click.Path(),
              help="write a self-contained HTML report here (failures first, a timeline)")
@click.option("--no-progress", is_flag=True,
              help="plain lines even on a terminal (no live progress line)")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: one JSON object per event on stdout")
@click.option("--quiet", "-q", is_flag=True, help="no console report")
@click.option("--verbose", "-v", is_flag=True,
              help="a line for every iteration of a loop as it ends (else: a summary line "
              "and the failed iterations)")
@store_option
@click.option("--inputs-from", type=click.Path(), metavar="FILE",
              help="one run per row of a .jsonl or .csv file of inputs (-i values are the "
              "defaults of every row); prints a line per run and a summary")
@click.option("--concurrency", "-c", default=10, show_default=True, metavar="N",
              help="with --inputs-from: runs at once")
@click.option("--again", is_flag=True,
              help="with --inputs-from: run the rows an earlier batch of the same file already "
              "ran, too")
@click.option("--broker", metavar="URL",
              help="hand the run to `runner worker`s through this Celery broker instead of "
              "running it here (they must share --store)")
@click.option("--queue", default="runner", show_default=True,
              help="with --broker: the queue the runs go through")
@click.option("--wait", "-w", is_flag=True,
              help="with --broker: wait until the run has ended; exit as the run")
@click.option("--timeout", type=float, metavar="SECONDS",
              help="with --broker --wait: stop waiting after this long (the run goes on)")
@click.option("--callback-url", metavar="URL",
              help="the public URL that reaches this run's callback listener (callback: "
              "steps; default: the environment's callbacks: url:, else the listener's own)")
@root_option
@trace_option
@guarded
def run(playbook: str, env: str, inputs: tuple[str, ...], report_json: str | None,
        junit: str | None, report_html: str | None, no_progress: bool, log_format: str,
        quiet: bool, verbose: bool, store: str | None, inputs_from: str | None, concurrency: int,
        again: bool, broker: str | None, queue: str, wait: bool,
        timeout: float | None, root: str | None, trace: bool,
        callback_url: str | None) -> None:
    """Run a playbook: here, once per row of a file, or on workers (--broker)."""
    from runner.errors import InvalidInput

    sigterm_as_ctrl_c()
    given = parse_inputs(inputs)
    if (wait or timeout is not None) and not broker:
        raise InvalidInput("--wait and --timeout go with --broker",
                           hint="a run without --broker always runs to its end here")
    if inputs_from is None and (concurrency != 10 or again):
        raise InvalidInput(f"{'--again' if again else '--concurrency'} goes with --inputs-from",
                           hint="give a .jsonl or .csv file of inputs, one run per row")
    if inputs_from is not None or broker:
        extra = [n for n, v in (("--junit", junit), ("--report-html", report_html)) if v]
        extra += [f"--log-format {log_format}"] if log_format != "text" else []
        if extra:
            raise InvalidInput(f"{', '.join(extra)} report on one run here; "
                               f"not with {'--broker' if broker else '--inputs-from'}",
                               hint="runner show RUN_ID --json gives any run's record")
    if broker and trace:
        raise InvalidInput("--trace does not go with --broker: the workers run it",
                           hint="start the workers with runner worker --trace (or "
                           "RUNNER_TRACES=otlp in their environment)")
    if callback_url and (broker or inputs_from):
        raise InvalidInput(f"--callback-url goes with one run here, not with "
                           f"{'--broker' if broker else '--inputs-from'}",
                           hint="give the environment callbacks: {url: ...} instead")
    if broker and root is not None:
        raise InvalidInput("--root does not go with --broker",
                           hint="workers load the playbook from their checkout with its own "
                           "folder as the root; keep its includes under that folder")
    from runner import api

    if broker:
        submitted = api.submit(playbook, broker=broker, env=env, inputs=given,
                               inputs_from=inputs_from, store=store, queue=queue, wait=wait,
                               timeout=timeout, report_json=report_json, on_queued=_queued)
        _exit_as_submitted(submitted, timeout)
    if inputs_from is not None:
        from runner.cli.batch_lines import BatchLines  # a batch's lines, for a batch only

        lines = BatchLines(inputs_from, quiet)
        summary = api.run_batch(playbook, inputs_from=inputs_from, env=env, inputs=given,
                                concurrency=concurrency, store=store, again=again, root=root,
                                report_json=report_json, on_start=lines.on_start,
                                on_result=lines.on_result, trace=trace or None)
        lines.finish(summary)
    result = api.run(playbook, env=env, inputs=given, report_json=report_json,
                     junit=junit, report_html=report_html, progress=not no_progress,
                     log_format=log_format, quiet=quiet, verbose=verbose, store=store,
                     root=root, trace=trace or None, callback_url=callback_url)
    exit_as_run(result)


def _queued(run_ids: list[str]) -> None:
    for run_id in run_ids:
        click.echo(f"queued: run {run_id}")


def _exit_as_submitted(submitted: Any, timeout: float | None) -> NoReturn:
    ids = submitted.run_ids
    if not submitted.waited:
        click.echo(f"follow with: runner show {ids[0]}" if len(ids) == 1 else
                   f"{len(ids)} runs queued; follow with: runner history")
        sys.exit(0)
    statuses = submitted.statuses
    for run_id in ids:
        error = submitted.errors.get(run_id)
        click.echo(printable(f"run {run_id} {statuses.get(run_id, 'queued')}"
                             + (f": {error}" if error else "")))
    unfinished = submitted.unfinished
    if unfinished:
        click.echo(f"{len(unfinished)} run(s) not ended after {timeout:g} s; they go on: "
                   f"runner show {unfinished[0]}")
        sys.exit(1)
    if len(ids) == 1:
        sys.exit({"passed": 0, "interrupted": 130, "errored": 3}.get(statuses[ids[0]], 1))
    sys.exit(0 if all(statuses[i] == "passed" for i in ids) else 1)

"""`runner run`: one run here, one per row of a file (``--inputs-from``), or on workers
(``--broker``)."""

from __future__ import annotations

import sys
from typing import Any

import click

from runner.cli.common import (
    crash_log,
    echo,
    env_option,
    exit_as_run,
    guarded,
    inputs_option,
    main,
    parse_inputs,
    root_option,
    sigterm_as_ctrl_c,
    store_option,
)
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
@root_option
@guarded
def run(playbook: str, env: str, inputs: tuple[str, ...], report_json: str | None,
        junit: str | None, report_html: str | None, no_progress: bool, log_format: str,
        quiet: bool, store: str | None, inputs_from: str | None, concurrency: int,
        again: bool, broker: str | None, queue: str, wait: bool,
        timeout: float | None, root: str | None) -> None:
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
    if broker and root is not None:
        raise InvalidInput("--root does not go with --broker",
                           hint="workers load the playbook from their checkout with its own "
                           "folder as the root; keep its includes under that folder")
    if broker:
        _run_on_workers(playbook, env, given, inputs_from, broker, store, queue, wait,
                        timeout, report_json)
        return
    if inputs_from is not None:
        _run_batch(playbook, env, given, inputs_from, concurrency, store, report_json, quiet,
                   again, root)
        return
    from runner import api

    result = api.run(playbook, env=env, inputs=given, report_json=report_json,
                     junit=junit, report_html=report_html, progress=not no_progress,
                     log_format=log_format, quiet=quiet, store=store, root=root)
    exit_as_run(result)


def _rows(inputs_from: str, given: dict[str, str]) -> list[dict[str, Any]]:
    from runner.batch import read_rows
    from runner.errors import InvalidInput

    rows = [{**given, **row} for row in read_rows(inputs_from)]
    if not rows:
        raise InvalidInput(f"{inputs_from} holds no rows of inputs", hint="one run per row")
    return rows


def _run_batch(playbook: str, env: str, given: dict[str, str], inputs_from: str,
               concurrency: int, store: str | None, report_json: str | None,
               quiet: bool, again: bool, root: str | None) -> None:
    from runner.batch import (
        format_already,
        format_failure,
        format_summary,
        run_batch,
        write_summary,
    )
    from runner.results import ERRORED

    rows = _rows(inputs_from, given)
    width = len(str(len(rows)))

    def on_start(summary: Any) -> None:
        if summary.batch_id:  # shown first: what `runner resume --batch` needs if it dies
            echo(f"batch {summary.batch_id}: {len(rows)} rows from {inputs_from} "
                 f"(if it is stopped: runner resume --batch {summary.batch_id})")
        if quiet:
            return
        for a in summary.already_ran:
            echo(f"row {a.row + 1:>{width}}  {format_already(a)}")

    crash_logs: dict[int, str] = {}  # row -> the log its internal error's hint points to

    def on_result(index: int, _inputs: Any, result: Any, failure: Any) -> None:
        if result is not None and result.status == ERRORED and result.traceback:
            crash_logs[index] = crash_log(result.traceback)
        if quiet:
            return
        if failure is None:
            echo(f"row {index + 1:>{width}}  passed  {result.run_id}  "
                 f"{result.duration_ms / 1000:.1f}s")
        else:
            echo(printable(f"row {index + 1:>{width}}  {format_failure(failure)}"))

    summary = run_batch(playbook, env=env, rows=rows, concurrency=concurrency, store=store,
                        on_result=on_result, on_start=on_start, again=again, root=root)
    echo(printable(format_summary(summary, inputs_from)))  # it quotes the servers' errors
    for index, where in sorted(crash_logs.items()):
        echo(f"  row {index + 1}: the details are in {where}; please attach it to a bug report")
    if report_json:
        write_summary(summary, report_json)
    if summary.stopped:  # Ctrl-C: what ran is recorded, interrupted runs are resumable
        sys.exit(130)
    sys.exit(0 if summary.ok else 1)


def _run_on_workers(playbook: str, env: str, given: dict[str, str], inputs_from: str | None,
                    broker: str, store: str | None, queue: str, wait: bool,
                    timeout: float | None, report_json: str | None) -> None:
    import json

    from runner.distributed import Submitter
    from runner.ownership import FINAL

    rows = _rows(inputs_from, given) if inputs_from is not None else [given]
    with Submitter(broker, store, queue=queue) as submitter:
        ids = [submitter.submit(playbook, env, row) for row in rows]
        for run_id in ids:
            click.echo(f"queued: run {run_id}")
        if not wait:
            click.echo(f"follow with: runner show {ids[0]}" if len(ids) == 1 else
                       f"{len(ids)} runs queued; follow with: runner history")
            return
        statuses = submitter.wait(ids, timeout)
        records = {i: submitter.store.get_run(i) or {} for i in ids}
    for run_id in ids:
        error = records[run_id].get("error")
        click.echo(printable(f"run {run_id} {statuses.get(run_id, 'queued')}"
                             + (f": {error}" if error else "")))
    if report_json:
        from pathlib import Path

        Path(report_json).write_text(json.dumps(
            [{"run_id": i, "status": statuses.get(i), "error": records[i].get("error")}
             for i in ids], indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    unfinished = [i for i in ids if statuses.get(i) not in FINAL]
    if unfinished:
        click.echo(f"{len(unfinished)} run(s) not ended after {timeout:g} s; they go on: "
                   f"runner show {unfinished[0]}")
        sys.exit(1)
    if len(ids) == 1:
        sys.exit({"passed": 0, "interrupted": 130, "errored": 3}.get(statuses[ids[0]], 1))
    sys.exit(0 if all(statuses[i] == "passed" for i in ids) else 1)

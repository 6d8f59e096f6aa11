"""The command line: parses arguments and calls ``runner.api``. Nothing else lives here.

Exit codes: 0 ok · 1 a step or assertion failed · 2 the playbook, environment or command line is
invalid · 3 internal error (a log file is written) · 130 interrupted (Ctrl-C).
Imports are lazy so ``runner --version`` and ``runner validate`` start fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from runner import __version__

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def guarded(func: F) -> F:
    """Map runner's errors to exit codes and a message; never show a traceback."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from runner.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, RunnerError

        try:
            return func(*args, **kwargs)
        except RunnerError as e:
            redactor = kwargs.get("_redactor")
            text = e.render()
            _fail(redactor.redact(text) if redactor else text, e.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", EXIT_INTERRUPTED)
        except click.exceptions.Exit:
            raise
        except Exception:
            import tempfile
            import traceback

            with tempfile.NamedTemporaryFile("w", prefix="runner-crash-", suffix=".log",
                                             delete=False) as log:
                traceback.print_exc(file=log)
            _fail(f"internal error: this is a bug in runner, not in your playbook.\n"
                  f"  the details are in {log.name}; please attach it to a bug report",
                  EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def _parse_inputs(pairs: tuple[str, ...]) -> dict[str, str]:
    from runner.errors import InvalidInput

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"-i {pair!r} is not key=value", hint="write -i hostname=NTB1")
        out[key.strip()] = value
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runner")
def main() -> None:
    """Run declarative YAML playbooks against vendor APIs."""


env_option = click.option("--env", "-e", "env", default="sandbox", show_default=True,
                          help="sandbox, a name under environments/, or an environment file")
store_option = click.option("--store", default=None, metavar="PATH|URL",
                            help="run history: a SQLite file or a SQLAlchemy URL "
                            "(default: $RUNNER_STORE or ~/.local/state/runner/runs.db)")
inputs_option = click.option("--input", "-i", "inputs", multiple=True, metavar="KEY=VALUE",
                             help="a playbook input (repeatable)")


@main.command()
@click.argument("playbooks", nargs=-1, required=True, type=click.Path())
@guarded
def validate(playbooks: tuple[str, ...]) -> None:
    """Check playbooks against the schema and the installed connectors."""
    from runner.playbook import load_playbook

    for path in playbooks:
        pb = load_playbook(path)
        click.echo(f"ok: {path} ({len(pb.steps)} steps, {len(pb.finally_steps)} finally)")


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
@click.option("--broker", metavar="URL",
              help="hand the run to `runner worker`s through this Celery broker instead of "
              "running it here (they must share --store)")
@click.option("--queue", default="runner", show_default=True,
              help="with --broker: the queue the runs go through")
@click.option("--wait", "-w", is_flag=True,
              help="with --broker: wait until the run has ended; exit as the run")
@click.option("--timeout", type=float, metavar="SECONDS",
              help="with --broker --wait: stop waiting after this long (the run goes on)")
@guarded
def run(playbook: str, env: str, inputs: tuple[str, ...], report_json: str | None,
        junit: str | None, report_html: str | None, no_progress: bool, log_format: str,
        quiet: bool, store: str | None, inputs_from: str | None, concurrency: int,
        broker: str | None, queue: str, wait: bool, timeout: float | None) -> None:
    """Run a playbook: here, once per row of a file, or on workers (--broker)."""
    from runner.errors import InvalidInput

    given = _parse_inputs(inputs)
    if (wait or timeout is not None) and not broker:
        raise InvalidInput("--wait and --timeout go with --broker",
                           hint="a run without --broker always runs to its end here")
    if inputs_from is None and concurrency != 10:
        raise InvalidInput("--concurrency goes with --inputs-from",
                           hint="give a .jsonl or .csv file of inputs, one run per row")
    if inputs_from is not None or broker:
        extra = [n for n, v in (("--junit", junit), ("--report-html", report_html)) if v]
        extra += [f"--log-format {log_format}"] if log_format != "text" else []
        if extra:
            raise InvalidInput(f"{', '.join(extra)} report on one run here; "
                               f"not with {'--broker' if broker else '--inputs-from'}",
                               hint="runner show RUN_ID --json gives any run's record")
    if broker:
        _run_on_workers(playbook, env, given, inputs_from, broker, store, queue, wait,
                        timeout, report_json)
        return
    if inputs_from is not None:
        _run_batch(playbook, env, given, inputs_from, concurrency, store, report_json, quiet)
        return
    from runner import api

    result = api.run(playbook, env=env, inputs=given, report_json=report_json,
                     junit=junit, report_html=report_html, progress=not no_progress,
                     log_format=log_format, quiet=quiet, store=store)
    _exit(result.status)


def _rows(inputs_from: str, given: dict[str, str]) -> list[dict[str, Any]]:
    from runner.batch import read_rows
    from runner.errors import InvalidInput

    rows = [{**given, **row} for row in read_rows(inputs_from)]
    if not rows:
        raise InvalidInput(f"{inputs_from} holds no rows of inputs", hint="one run per row")
    return rows


def _run_batch(playbook: str, env: str, given: dict[str, str], inputs_from: str,
               concurrency: int, store: str | None, report_json: str | None,
               quiet: bool) -> None:
    from runner.batch import format_failure, format_summary, run_batch, write_summary

    rows = _rows(inputs_from, given)
    width = len(str(len(rows)))

    def on_result(index: int, _inputs: Any, result: Any, failure: Any) -> None:
        if quiet:
            return
        if failure is None:
            click.echo(f"row {index + 1:>{width}}  passed  {result.run_id}  "
                       f"{result.duration_ms / 1000:.1f}s")
        else:
            click.echo(f"row {index + 1:>{width}}  {format_failure(failure)}")

    summary = run_batch(playbook, env=env, rows=rows, concurrency=concurrency, store=store,
                        on_result=on_result)
    click.echo(format_summary(summary, inputs_from))
    if report_json:
        write_summary(summary, report_json)
    if summary.stopped:  # Ctrl-C: what ran is recorded, interrupted runs are resumable
        sys.exit(130)
    sys.exit(0 if summary.ok else 1)


def _run_on_workers(playbook: str, env: str, given: dict[str, str], inputs_from: str | None,
                    broker: str, store: str | None, queue: str, wait: bool,
                    timeout: float | None, report_json: str | None) -> None:
    import json

    from runner.distributed import FINAL, Submitter

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
        click.echo(f"run {run_id} {statuses.get(run_id, 'queued')}"
                   + (f": {error}" if error else ""))
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
        sys.exit({"passed": 0, "interrupted": 130}.get(statuses[ids[0]], 1))
    sys.exit(0 if all(statuses[i] == "passed" for i in ids) else 1)


def _exit(status: str) -> None:
    from runner.results import INTERRUPTED, PASSED

    if status == INTERRUPTED:
        sys.exit(130)
    sys.exit(0 if status == PASSED else 1)


@main.command()
@click.argument("run_id")
@inputs_option
@store_option
@click.option("--report-json", type=click.Path(), help="write a JSON report here")
@click.option("--junit", type=click.Path(), help="write a JUnit XML report here")
@click.option("--force", is_flag=True, help="resume even if the run looks alive")
@guarded
def resume(run_id: str, inputs: tuple[str, ...], store: str | None, report_json: str | None,
           junit: str | None, force: bool) -> None:
    """Continue a crashed, interrupted or failed run; finished steps are not sent again."""
    from runner import api

    result = api.resume(run_id, store=store, inputs=_parse_inputs(inputs), force=force,
                        report_json=report_json, junit=junit)
    _exit(result.status)


@main.command()
@store_option
@click.option("--playbook", "-p", help="only runs of this playbook (name or file)")
@click.option("--status", "-s", type=click.Choice(["queued", "pending", "running", "passed",
                                                    "failed", "interrupted", "skipped"]))
@click.option("--since", help="only runs since: 2026-11-23, or 2h, 3d")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table")
@guarded
def history(store: str | None, playbook: str | None, status: str | None, since: str | None,
            limit: int, as_json: bool) -> None:
    """List recorded runs, newest first."""
    import json
    import time as _time

    from runner import api

    rows = api.history(store=store, playbook=playbook, status=status,
                       since=_since(since) if since else None, limit=limit)
    for r in rows:
        r.pop("report", None)
        if as_json:
            click.echo(json.dumps(r, ensure_ascii=False, default=str))
            continue
        when = _time.strftime("%Y-%m-%d %H:%M:%S", _time.localtime(r["started"]))
        took = f"{(r['duration_ms'] or 0) / 1000:.1f}s"
        click.echo(f"{r['run_id']:<24} {when}  {r['status']:<11} {took:>7}  {r['playbook']}"
                   + (f"  ({r['error'][:60]})" if r.get("error") else ""))
    if not rows and not as_json:
        click.echo("no runs recorded yet")


def _since(text: str) -> float:
    import datetime as dt
    import time as _time

    from runner.errors import InvalidInput
    from runner.model import seconds

    units = {"d": 86400.0, "w": 604800.0}
    try:
        if text[-1] in units and text[:-1].isdigit():
            return _time.time() - int(text[:-1]) * units[text[-1]]
        if text[-1] in "smh" and text[0].isdigit():
            return _time.time() - seconds(text)
        return dt.datetime.fromisoformat(text).timestamp()
    except (ValueError, IndexError):
        raise InvalidInput(f"--since {text!r} is neither a date nor a duration",
                           hint="write 2026-11-23, 2026-11-23T08:00, 2h or 3d") from None


@main.command()
@click.argument("run_id")
@store_option
@click.option("--json", "as_json", is_flag=True, help="the whole record as JSON")
@guarded
def show(run_id: str, store: str | None, as_json: bool) -> None:
    """Show one run: its steps, timings, outputs, errors (secrets were redacted when stored)."""
    import json

    from runner import api

    row = api.show(run_id, store=store)
    if as_json:
        click.echo(json.dumps(row, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(f"run {row['run_id']} · {row['playbook']} · {row['status']}")
    click.echo(f"  file {row['file']} · env {row['environment']}")
    click.echo(f"  inputs {json.dumps(row['inputs'], ensure_ascii=False)}")
    report = row.get("report") or {}
    for s in report.get("steps", []):
        mark = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}.get(s["status"], "?")
        extra = " (resumed)" if s.get("resumed") else ""
        click.echo(f"  {mark} {s['id']:<12} {s['target']:<34} {s['duration_ms']:.0f} ms{extra}")
        for k, v in (s.get("extracted") or {}).items():
            click.echo(f"       {k} = {json.dumps(v, ensure_ascii=False, default=str)[:100]}")
        if s.get("error"):
            click.echo(f"       error: {s['error']}")
    if row.get("outputs"):
        click.echo(f"  outputs {json.dumps(row['outputs'], ensure_ascii=False)}")
    if row.get("error"):
        click.echo(f"  error: {row['error']}")


@main.command()
@click.argument("playbook", type=click.Path())
@env_option
@inputs_option
@guarded
def plan(playbook: str, env: str, inputs: tuple[str, ...]) -> None:
    """Show the requests a run would send (secrets redacted); send nothing."""
    from runner import api

    api.plan(playbook, env=env, inputs=_parse_inputs(inputs))


@main.command()
@click.option("--connector", "-c", "names", multiple=True, help="only these (default: all)")
@guarded
def sandbox(names: tuple[str, ...]) -> None:
    """Serve the simulators on loopback until Ctrl-C."""
    import threading

    from runner.connectors import registry
    from runner.sandbox import Sandbox

    box = Sandbox().start(names or [s.name for s in registry.all_specs() if s.simulator])
    click.echo("simulators (Ctrl-C to stop):")
    for name, sim in box.simulators.items():
        click.echo(f"  {name:<12} {sim.url}")
    click.echo("credentials are generated for this session; `runner run --env sandbox` "
               "starts its own simulators and needs none")
    try:
        threading.Event().wait()
    finally:
        box.stop()


@main.command()
@guarded
def connectors() -> None:
    """List the installed connectors and their operations."""
    from runner import api

    for spec in api.connectors():
        click.echo(f"{spec.name}  ({spec.title}) · auth: {spec.auth_scheme}")
        for name, op in spec.operations.items():
            safe = "" if op.safe else "  [not safe to repeat]"
            params = ", ".join(f"{p.name}{'' if p.required and not p.has_default else '?'}"
                               f": {p.type}" for p in op.params.values())
            click.echo(f"  {spec.name}.{name:<24} {op.method:<6} {op.path}  ({params}){safe}")


@main.command()
@click.option("--check", is_flag=True, help="fail if the committed schemas are stale")
@guarded
def schema(check: bool) -> None:
    """Write schemas/*.json from the code and the installed connectors."""
    from runner.schemas import write_schemas

    stale = write_schemas(check=check)
    for path in stale:
        click.echo(f"{'stale' if check else 'wrote'}: {path}")
    if check and stale:
        sys.exit(1)




def _register_extra_commands() -> None:
    """Commands that live in their own modules (scheduling and workers)."""
    import importlib
    import importlib.util

    if importlib.util.find_spec("runner.cli_distributed") is not None:
        importlib.import_module("runner.cli_distributed")  # registers its commands on `main`


_register_extra_commands()

if __name__ == "__main__":  # pragma: no cover
    # `python -m runner.cli`: this module runs as __main__, but the extra commands registered
    # on runner.cli.main, the module imported by name; run that one
    from runner.cli import main as _main

    _main()

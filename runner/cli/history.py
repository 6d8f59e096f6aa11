"""`runner history` and `runner show`: the recorded runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

import click

from runner.cli.common import main, store_option
from runner.cli.guard import guarded
from runner.printable import printable


@main.command()
@store_option
@click.option("--playbook", "-p", help="only runs of this playbook (name or file)")
@click.option("--status", "-s", type=click.Choice(["queued", "pending", "running", "waiting",
                                                    "parked", "passed", "failed", "interrupted",
                                                    "errored", "skipped"]))
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

    rows, hidden = api.history_page(store=store, limit=limit, playbook=playbook, status=status,
                                    since=since or None)
    for r in rows:
        r.pop("report", None)
        if as_json:
            click.echo(json.dumps(r, ensure_ascii=False, default=str))
            continue
        when = _time.strftime("%Y-%m-%d %H:%M:%S", _time.localtime(r["started"]))
        took = f"{(r['duration_ms'] or 0) / 1000:.1f}s"
        line = f"{r['run_id']:<24} {when}  {r['status']:<11} {took:>7}  {r['playbook']}" \
            + (f"  ({_headline(_one_line(r['error']))[:80]})" if r.get("error") else "")
        click.echo(printable(line))  # a server's error may hold terminal control sequences
    if not rows and not as_json:
        click.echo("no runs recorded yet")
    if hidden > 0:  # said on stderr with --json, so the JSON lines stay JSON lines
        click.echo(f"{hidden} more run(s) not shown (the newest {limit} are); "
                   f"--limit {limit + hidden} shows them all", err=as_json)


# the step's file:line that a run's error starts with (one per include, outside in)
_WHERE = re.compile(r"^(?:[^\s:]+\.ya?ml:\d+(?::\d+)?: )+")


def _headline(text: str) -> str:
    """A run's error for its line of history: the step's file:line by the file's name alone
    (``runner show`` has the whole path), so that the cut at the line's end leaves the words."""
    m = _WHERE.match(text)
    if not m:
        return text
    places = [p.rsplit("/", 1)[-1] for p in m.group(0).split(": ") if p]
    return ": ".join([*places, text[m.end():]])


def _one_line(text: str) -> str:
    """A run's error on its run's line: a server's line breaks, kept as they are, would start
    what looks like another row of history (a forged ``passed``, say)."""
    return " ".join(text.split())


@main.command()
@click.argument("run_id")
@store_option
@click.option("--json", "as_json", is_flag=False, flag_value="-", default=None,
              metavar="[FILE]", help="alone: the whole record as JSON on stdout; with FILE: "
              "the run's JSON report written there, as runner run --report-json writes it")
@click.option("--html", type=click.Path(dir_okay=False), metavar="FILE",
              help="write the run's HTML report, as runner run --report-html writes it")
@click.option("--junit", type=click.Path(dir_okay=False), metavar="FILE",
              help="write the run's JUnit XML, as runner run --junit writes it")
@guarded
def show(run_id: str, store: str | None, as_json: str | None, html: str | None,
         junit: str | None) -> None:
    """Show one run: its steps, timings, outputs, errors (secrets were redacted when stored);
    or write its reports, for any recorded run: by hand, scheduled, a batch's, a worker's."""
    import json

    from runner import api

    report_json = as_json if as_json not in (None, "-") else None
    row = api.show(run_id, store=store, html=html, report_json=report_json, junit=junit)
    if as_json == "-":
        click.echo(json.dumps(row, indent=2, ensure_ascii=False, default=str))
        return
    written = [(what, path) for what, path in (("HTML", html), ("JSON", report_json),
                                              ("JUnit", junit)) if path]
    if written:
        for what, path in written:
            click.echo(printable(f"{what} report of run {row['run_id']} written to {path}"))
        return

    def echo(text: str) -> None:  # what a server said may hold terminal control sequences
        click.echo(printable(text))

    echo(f"run {row['run_id']} · {row['playbook']} · {row['status']}")
    echo(f"  file {row['file']} · env {row['environment']}")
    echo(f"  inputs {json.dumps(row['inputs'], ensure_ascii=False)}")
    if row.get("progress") is not None:
        _progress(row, echo)
    report = row.get("report") or {}
    undo = report.get("undo") or {}
    for title, steps in (("", report.get("steps", [])),
                         (f"  undo: {undo.get('status')}", undo.get("steps", []))):
        if title and undo:
            echo(title)
        for s in steps:
            mark = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP",
                    "errored": "ERR!"}.get(s["status"], "?")
            extra = " (resumed)" if s.get("resumed") else ""
            where = f"  {s['where']}" if s.get("where") else ""
            echo(f"  {mark} {s['id']:<12} {s['target']:<34} {s['duration_ms']:.0f} ms{extra}"
                 f"{where}")
            for k, v in (s.get("extracted") or {}).items():
                echo(f"       {k} = {json.dumps(v, ensure_ascii=False, default=str)[:100]}")
            if s.get("error"):
                echo(f"       error: {s['error']}")
    if row.get("outputs"):
        echo(f"  outputs {json.dumps(row['outputs'], ensure_ascii=False)}")
    if row.get("error"):
        echo(f"  error: {row['error']}")


_MARKS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP", "sent": "SENT",
          "answered": "ANSW", "parked": "WAIT", "waiting": "WAIT"}


def _progress(row: dict[str, object], echo: Callable[[str], None]) -> None:
    """A run without a report: each step's last state in its journal."""
    import time

    places = cast("list[dict[str, Any]]", row["progress"])
    echo(f"  no report yet ({row['status']}); its journal so far:" if places else
         f"  no report yet ({row['status']}); nothing journaled yet")
    for p in places:
        mark = _MARKS.get(p["state"], "UNDO" if p["key"] == "undo" else "?")
        text = f"  {mark} {p['step']:<12} {p['where']:<20}"
        if p["state"] == "answered":
            text += f" answered ({p['outcome']}), not finished"
        elif p["state"] == "sent":
            text += " an unsafe request sent, no answer journaled"
        elif p["key"] == "undo":
            text += f" undo {p['state']}"
        if p.get("until"):
            until = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(p["until"])))
            what = f" for {p['waits_for']}" if p.get("waits_for") else ""
            text += f" {p['state']}{what} until {until}"
        echo(text.rstrip())

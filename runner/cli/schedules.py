"""`runner scheduler` and `runner schedule list`: fire and look at schedule files."""

from __future__ import annotations

import os
import sys
import time

import click

from runner.cli.common import (
    broker_option,
    main,
    queue_option,
    stale_option,
    store_option,
    trace_option,
)
from runner.cli.guard import guarded


def _say(text: str) -> None:
    click.echo(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}")
    sys.stdout.flush()


def _shown(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


@main.command()
@click.argument("schedules_file", default="schedules.yaml", type=click.Path())
@store_option
@broker_option
@queue_option
@click.option("--concurrency", "-c", default=4, show_default=True,
              help="runs at once in this process (without --broker)")
@stale_option
@trace_option
@guarded
def scheduler(schedules_file: str, store: str | None, broker: str | None, queue: str,
              concurrency: int, stale_after: float, trace: bool) -> None:
    """Fire the schedules of SCHEDULES_FILE (default schedules.yaml) until stopped.

    Without --broker the runs run in this process; with --broker they go to `runner worker`s,
    which must use the same --store. Each fire time runs once, across restarts and across
    schedulers sharing one PostgreSQL store.
    """
    from runner import api

    if broker and trace:
        from runner.errors import InvalidInput

        raise InvalidInput("--trace does not go with --broker: the workers run the runs",
                           hint="start the workers with runner worker --trace (or "
                           "RUNNER_TRACES=otlp in their environment)")
    api.schedule(schedules_file, store=store, broker=broker, queue=queue,
                 concurrency=concurrency, stale_after=stale_after, log=_say,
                 trace=trace or None)


@main.group()
def schedule() -> None:
    """Look at schedule files."""


@schedule.command("list")
@click.argument("schedules_file", default="schedules.yaml", type=click.Path())
@click.option("--next", "count", default=1, show_default=True, help="how many fire times")
@click.option("--store", default=None, metavar="PATH|URL",
              help="also show the last fire time each schedule has dealt with")
@guarded
def schedule_list(schedules_file: str, count: int, store: str | None) -> None:
    """Show each schedule and its next fire times (validates the file and its playbooks)."""
    from runner import api

    for view in api.schedules(schedules_file, count=count, store=store):
        s = view.schedule
        flags = f"overlap {s.overlap} · catch_up {s.catch_up}"
        if s.jitter:
            flags += f" · jitter {s.jitter:g}s"
        if s.notify:
            flags += " · notify " + ", ".join(sorted({t.on for t in s.notify}))
        if s.webhook:
            flags += " · webhook on failure (deprecated)"
        state = "" if s.enabled else "  (disabled)"
        click.echo(f"{s.name}{state}: {s.cron} ({s.timezone}) · {flags}")
        env = s.environment if s.environment == "sandbox" else _shown(s.environment)
        click.echo(f"  {_shown(s.playbook)} · env {env}")
        if view.last is not None:
            click.echo(f"  last fire  {view.last}")
        for local, utc in view.next:
            click.echo(f"  next       {local}  ({utc})")

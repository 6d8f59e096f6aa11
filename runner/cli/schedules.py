"""`runner scheduler` and `runner schedule list`: fire and look at schedule files."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time

import click

from runner.cli.common import (
    broker_option,
    guarded,
    main,
    queue_option,
    stale_option,
    store_option,
)


def _say(text: str) -> None:
    click.echo(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}")
    sys.stdout.flush()


def _when(t: float, tz: str) -> str:
    from zoneinfo import ZoneInfo

    local = dt.datetime.fromtimestamp(t, ZoneInfo(tz))
    return local.strftime("%Y-%m-%d %H:%M:%S %Z")


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
@guarded
def scheduler(schedules_file: str, store: str | None, broker: str | None, queue: str,
              concurrency: int, stale_after: float) -> None:
    """Fire the schedules of SCHEDULES_FILE (default schedules.yaml) until stopped.

    Without --broker the runs run in this process; with --broker they go to `runner worker`s,
    which must use the same --store. Each fire time runs once, across restarts and across
    schedulers sharing one PostgreSQL store.
    """
    import signal

    from runner.distributed import CeleryDispatcher, safe_url
    from runner.errors import InvalidInput
    from runner.jobs import LocalDispatcher, notify_failure
    from runner.schedule_file import load_schedules
    from runner.scheduler import Scheduler
    from runner.store import Store

    schedules = load_schedules(schedules_file)
    if not any(s.enabled for s in schedules):
        raise InvalidInput(f"{schedules_file} has no enabled schedule",
                           hint="add one under schedules:")
    db = Store(store)
    local: LocalDispatcher | None = None
    remote: CeleryDispatcher | None = None
    if broker:
        remote = CeleryDispatcher(broker, queue=queue)
        mode = f"hands runs to workers through {safe_url(broker)} (queue {queue})"
    else:
        local = LocalDispatcher(db, concurrency=concurrency, stale_after=stale_after, log=_say)
        mode = f"runs them here, {concurrency} at once"
    sched = Scheduler(schedules, db, remote or local, log=_say,  # type: ignore[arg-type]
                      notify=notify_failure)
    _say(f"scheduler: {len(sched.schedules)} schedule(s) from {schedules_file}; "
         f"store {safe_url(db.url)}; {mode}")
    now = time.time()
    for s in sched.schedules.values():
        _say(f"  {s.name}: {s.cron} ({s.timezone}), next {_when(s.next_fire(now), s.timezone)}")
    if local is not None:
        for job in sched.unfinished():
            _say(f"{job.schedule}: run {job.run_id} was left unfinished; taking it up")
            local(job)
    signal.signal(signal.SIGTERM, lambda *_: sched.stop.set())
    try:
        sched.run()
    except KeyboardInterrupt:
        sched.stop.set()
    finally:
        if remote is not None:
            remote.close()
        if local is not None and local.active():
            _say(f"stopping: waiting for {local.active()} run(s) in progress (Ctrl-C again "
                 "leaves them; the next start resumes them)")
            try:
                local.wait()
            except KeyboardInterrupt:
                pass
        db.close()
    _say("scheduler stopped")



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
    from runner.schedule_file import fire_iso, load_schedules
    from runner.scheduler import last_fires
    from runner.store import Store

    schedules = load_schedules(schedules_file)
    last: dict[str, float] = {}
    if store:
        db = Store(store)
        try:
            last = last_fires(db)
        finally:
            db.close()
    now = time.time()
    for s in schedules:
        flags = f"overlap {s.overlap} · catch_up {s.catch_up}"
        if s.jitter:
            flags += f" · jitter {s.jitter:g}s"
        if s.webhook:
            flags += " · webhook on failure"
        state = "" if s.enabled else "  (disabled)"
        click.echo(f"{s.name}{state}: {s.cron} ({s.timezone}) · {flags}")
        env = s.environment if s.environment == "sandbox" else _shown(s.environment)
        click.echo(f"  {_shown(s.playbook)} · env {env}")
        if s.name in last:
            click.echo(f"  last fire  {fire_iso(last[s.name])}")
        for t in s.next_fires(now, max(1, count)):
            click.echo(f"  next       {_when(t, s.timezone)}  ({fire_iso(t)})")

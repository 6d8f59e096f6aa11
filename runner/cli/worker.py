"""`runner worker`: a Celery worker that executes runs handed over through a broker."""

from __future__ import annotations

import sys

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


@main.command()
@broker_option
@store_option
@queue_option
@click.option("--concurrency", "-c", default=4, show_default=True, help="runs at once")
@click.option("--pool", type=click.Choice(["threads", "prefork", "solo"]), default="threads",
              show_default=True, help="threads suit runs that mostly wait on the network")
@click.option("--loglevel", "-l", default="INFO", show_default=True)
@click.option("--hostname", "-n", default=None, help="the worker's node name")
@click.option("--visibility-timeout", default=3600.0, show_default=True, metavar="SECONDS",
              help="Redis gives the runs of a vanished worker to others after this; keep it "
              "longer than your longest run")
@click.option("--park-after", default=30.0, show_default=True, metavar="SECONDS",
              type=click.FloatRange(min=0), help="a run's wait this long or longer (a poll's "
              "interval, a sleep) gives its slot back: the run is parked in the store and "
              "handed back to the broker for its wake time; 0: never")
@stale_option
@trace_option
@guarded
def worker(broker: str | None, store: str | None, queue: str, concurrency: int, pool: str,
           loglevel: str, hostname: str | None, visibility_timeout: float, park_after: float,
           stale_after: float, trace: bool) -> None:
    """Execute runs handed over through the broker, recording them in --store."""
    from runner import api
    from runner.errors import InvalidInput

    if not broker:
        raise InvalidInput("runner worker needs --broker", hint="e.g. --broker "
                           "redis://127.0.0.1:6379/0, or set RUNNER_BROKER")
    sys.exit(api.worker(broker, store, queue=queue, concurrency=concurrency, pool=pool,
                        loglevel=loglevel, hostname=hostname,
                        visibility_timeout=visibility_timeout, stale_after=stale_after,
                        trace=trace or None, park_after=park_after or None))

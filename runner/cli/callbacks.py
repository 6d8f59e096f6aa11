"""`runner callbacks`: receive the callbacks of runs on workers (`wait-for` steps)."""

from __future__ import annotations

import click

from runner.cli.common import broker_option, echo, main, queue_option, stale_option, store_option
from runner.cli.guard import guarded, sigterm_as_ctrl_c


@main.command()
@click.option("--bind", default="127.0.0.1:8787", show_default=True, metavar="HOST:PORT",
              help="where to listen; the environment's callbacks: url: must reach it")
@store_option
@broker_option
@queue_option
@stale_option
@guarded
def callbacks(bind: str, store: str | None, broker: str | None, queue: str,
              stale_after: float) -> None:
    """Receive callbacks for the runs of --store; wake runs nobody holds through --broker."""
    from runner import api

    sigterm_as_ctrl_c()
    try:
        api.callbacks(bind, store=store, broker=broker, queue=queue, stale_after=stale_after,
                      ready=lambda url: echo(f"runner callbacks: listening on {url}"),
                      woken=lambda run_id: echo(f"run {run_id}: woken through the broker"))
    except KeyboardInterrupt:
        echo("runner callbacks: stopped")

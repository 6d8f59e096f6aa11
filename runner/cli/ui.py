"""`runner ui`: the read-only web view of the run store."""

from __future__ import annotations

import click

from runner.cli.common import echo, main, store_option
from runner.cli.guard import guarded


@main.command()
@store_option
@click.option("--schedules", type=click.Path(dir_okay=False), metavar="FILE",
              help="a schedule file: its schedules, next fire times and last runs")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="the address to listen on; any but loopback needs --token")
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--token", envvar="RUNNER_UI_TOKEN", metavar="TOKEN",
              help="every request must carry it (?token= once, then a cookie; or "
              "Authorization: Bearer) (default: $RUNNER_UI_TOKEN)")
@click.option("--stale-after", default=30.0, show_default=True, metavar="SECONDS",
              help="a queued or running run silent this long is listed as waiting or stuck")
@guarded
def ui(store: str | None, schedules: str | None, host: str, port: int, token: str | None,
       stale_after: float) -> None:
    """Serve a read-only web view of the run history until Ctrl-C."""
    from runner import api

    def ready(url: str) -> None:
        echo(f"runner ui on {url} (Ctrl-C to stop)" + (" · token required" if token else ""))

    api.ui(store=store, schedules=schedules, host=host, port=port, token=token,
           stale_after=stale_after, on_ready=ready)

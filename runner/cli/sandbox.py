"""`runner sandbox`: serve the simulators on loopback until Ctrl-C."""

from __future__ import annotations

import click

from runner.cli.common import main
from runner.cli.guard import guarded


@main.command()
@click.option("--connector", "-c", "names", multiple=True, help="only these (default: all)")
@guarded
def sandbox(names: tuple[str, ...]) -> None:
    """Serve the simulators on loopback until Ctrl-C."""
    from runner import api

    def ready(urls: dict[str, str]) -> None:
        click.echo("simulators (Ctrl-C to stop):")
        for name, url in urls.items():
            click.echo(f"  {name:<12} {url}")
        click.echo("credentials are generated for this session; `runner run --env sandbox` "
                   "starts its own simulators and needs none")

    api.sandbox(names, on_ready=ready)

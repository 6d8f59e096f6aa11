"""`runner sandbox`: serve the simulators on loopback until Ctrl-C."""

from __future__ import annotations

import click

from runner.cli.common import guarded, main


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

"""`runner sandbox`: serve the simulators on loopback until Ctrl-C or SIGTERM."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from runner.cli.common import main
from runner.cli.guard import guarded

if TYPE_CHECKING:
    from runner.api.sandboxes import SandboxReady


@main.command()
@click.option("--connector", "-c", "names", multiple=True, help="only these (default: all)")
@click.option("--options", "options_file", metavar="FILE",
              help="simulator options, YAML: {vendor: {option: value}}")
@click.option("--set", "sets", multiple=True, metavar="VENDOR.OPTION=VALUE",
              help="one simulator option (repeatable; VALUE is YAML: 30, true, [a, b])")
@click.option("--write-env", "write_env", metavar="FILE",
              help="write an environment file for `runner run --env FILE` (and its secrets "
              "file beside it)")
@click.option("--write-dotenv", "write_dotenv", metavar="FILE",
              help="write NAME=value lines of the URLs and credentials, for shells and curl")
@guarded
def sandbox(names: tuple[str, ...], options_file: str | None, sets: tuple[str, ...],
            write_env: str | None, write_dotenv: str | None) -> None:
    """Serve the simulators on loopback until Ctrl-C, with the credentials they made up."""
    from runner import api

    api.sandbox(names, options_file=options_file, sets=sets, write_env_file=write_env,
                write_dotenv_file=write_dotenv, on_ready=_show)
    click.echo("sandbox stopped")


def _show(ready: SandboxReady) -> None:
    # made-up values for this session: showing them is the point (a sandbox run, `runner run
    # --env sandbox`, never shows its own)
    click.echo("simulators (Ctrl-C or SIGTERM to stop); the credentials are made up for this "
               "session:")
    for s in ready.simulators:
        click.echo(f"  {s.name:<10} {s.url}")
        for key, value in s.settings.items():
            if key != "base_url":
                click.echo(f"  {'':<10}   {key}: {value}")
    examples = [s for s in ready.simulators if s.example]
    if examples:
        click.echo("try it:")
        for s in examples:
            click.echo(f"  {s.example}")
    if ready.env_file is not None:
        click.echo(f"environment file: {ready.env_file} (secrets in {ready.secrets_file}): "
                   f"runner run PLAYBOOK --env {ready.env_file}")
    if ready.dotenv_file is not None:
        click.echo(f"dotenv file: {ready.dotenv_file} (source it in a shell)")
    click.echo("ready")

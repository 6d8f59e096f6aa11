"""`runner plan`: the requests a run would send, secrets redacted; nothing is sent."""

from __future__ import annotations

import click

from runner.cli.common import env_option, inputs_option, main, parse_inputs, root_option
from runner.cli.guard import guarded


@main.command()
@click.argument("playbook", type=click.Path())
@env_option
@inputs_option
@root_option
@guarded
def plan(playbook: str, env: str, inputs: tuple[str, ...], root: str | None) -> None:
    """Show the requests a run would send (secrets redacted); send nothing."""
    from runner import api

    api.plan(playbook, env=env, inputs=parse_inputs(inputs), root=root)

"""`runner validate`: check playbooks against the schema and the installed connectors."""

from __future__ import annotations

import click

from runner.cli.common import main, root_option
from runner.cli.guard import guarded


@main.command()
@click.argument("playbooks", nargs=-1, required=True, type=click.Path())
@root_option
@guarded
def validate(playbooks: tuple[str, ...], root: str | None) -> None:
    """Check playbooks against the schema and the installed connectors."""
    from runner.api import validate as check  # loads the playbook loader only: starts fast

    for path in playbooks:
        pb = check([path], root=root)[0]
        click.echo(f"ok: {path} ({len(pb.steps)} steps, {len(pb.finally_steps)} finally)")

"""`runner validate`: check playbooks against the schema and the installed connectors."""

from __future__ import annotations

import click

from runner.cli.common import guarded, main


@main.command()
@click.argument("playbooks", nargs=-1, required=True, type=click.Path())
@guarded
def validate(playbooks: tuple[str, ...]) -> None:
    """Check playbooks against the schema and the installed connectors."""
    from runner.playbook import load_playbook

    for path in playbooks:
        pb = load_playbook(path)
        click.echo(f"ok: {path} ({len(pb.steps)} steps, {len(pb.finally_steps)} finally)")

"""`runner schema`: write ``schemas/*.json`` from the code and the installed connectors."""

from __future__ import annotations

import sys

import click

from runner.cli.common import main
from runner.cli.guard import guarded


@main.command()
@click.option("--check", is_flag=True, help="fail if the committed schemas are stale")
@guarded
def schema(check: bool) -> None:
    """Write schemas/*.json from the code and the installed connectors."""
    from runner import api

    stale = api.write_schemas(check=check)
    for path in stale:
        click.echo(f"{'stale' if check else 'wrote'}: {path}")
    if check and stale:
        sys.exit(1)

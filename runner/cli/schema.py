"""`runner schema`: write the JSON Schemas from the code and the installed connectors."""

from __future__ import annotations

import sys

import click

from runner.cli.common import echo, main
from runner.cli.guard import guarded


@main.command()
@click.option("--out", "-o", type=click.Path(file_okay=False), metavar="DIR",
              help="the folder to write them to (default: ./schemas in a repository of "
              "playbooks)")
@click.option("--check", is_flag=True, help="write nothing; fail if any is stale or missing")
@guarded
def schema(out: str | None, check: bool) -> None:
    """Write schemas/*.json from the code and the installed connectors."""
    from runner import api

    folder, stale = api.write_schemas(out, check=check)
    for path in stale:
        echo(f"{'stale' if check else 'wrote'}: {path}")
    if not stale:
        echo(f"up to date: {folder}")
    if check and stale:
        sys.exit(1)

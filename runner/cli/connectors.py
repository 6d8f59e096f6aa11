"""`runner connectors`: the installed connectors and their operations."""

from __future__ import annotations

import click

from runner.cli.common import main
from runner.cli.guard import guarded


@main.command()
@guarded
def connectors() -> None:
    """List the installed connectors and their operations."""
    from runner import api

    for spec in api.connectors():
        click.echo(f"{spec.name}  ({spec.title}) · auth: {spec.auth_scheme}")
        for name, op in spec.operations.items():
            safe = "" if op.safe else "  [not safe to repeat]"
            if op.paginate is not None:
                safe += f"  [pages by {op.paginate.style}: all: true reads every page]"
            params = ", ".join(f"{p.name}{'' if p.required and not p.has_default else '?'}"
                               f": {p.type}" for p in op.params.values())
            click.echo(f"  {spec.name}.{name:<24} {op.method:<6} {op.path}  ({params}){safe}")

"""`runner connectors`: the installed connectors and their operations, and the secret sources
an environment file's references can name, each with the package that provides it."""

from __future__ import annotations

import click

from runner.cli.common import main
from runner.cli.guard import guarded
from runner.printable import printable


@main.command()
@guarded
def connectors() -> None:
    """List the installed connectors and their operations, and the secret sources."""
    from runner import api

    installed = api.installed()
    for spec in installed.connectors:
        # titles and summaries are a package's own words: no escape sequence reaches the terminal
        click.echo(printable(f"{spec.name}  ({spec.title}) · auth: {spec.auth_scheme}"))
        for name, op in spec.operations.items():
            safe = "" if op.safe else "  [not safe to repeat]"
            if op.paginate is not None:
                safe += f"  [pages by {op.paginate.style}: all: true reads every page]"
            params = ", ".join(f"{p.name}{'' if p.required and not p.has_default else '?'}"
                               f": {p.type}" for p in op.params.values())
            click.echo(printable(f"  {spec.name}.{name:<24} {op.method:<6} {op.path}  ({params})"
                                 f"{safe}"))
    click.echo("\nsecret sources ({secret: {SOURCE: ARG}} in an environment file):")
    width = max(len(s.name) for s in installed.secret_sources)
    for source in installed.secret_sources:
        by = f"{source.distribution or '?'} {source.version}".strip()
        origin = f"built in ({by})" if source.builtin else f"{by}, {source.value}"
        about = f" · {source.about}" if source.about else ""
        unused = f"  [not used: {source.unused}]" if source.unused else ""
        click.echo(printable(f"  {source.name:<{width}}  {origin}{about}{unused}"))

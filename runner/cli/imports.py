"""`runner import arazzo`: playbooks from another tool's workflow format."""

from __future__ import annotations

import click

from runner.cli.common import echo, main
from runner.cli.guard import guarded


@main.group("import")
def import_() -> None:
    """Turn another format's workflows into playbooks."""


def _pairs(_ctx: click.Context, _param: click.Parameter, pairs: tuple[str, ...]
           ) -> dict[str, str]:
    given = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not (sep and name and path):
            raise click.BadParameter(f"{pair!r}: write NAME=FILE")
        given[name] = path
    return given


@import_.command("arazzo")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--out", "-o", "out", default=".", show_default=True,
              type=click.Path(file_okay=False), help="the folder the playbooks are written to")
@click.option("--source", "sources", multiple=True, metavar="NAME=FILE", callback=_pairs,
              help="a local copy of a source the document names by URL (repeatable)")
@click.option("--force", is_flag=True, help="overwrite playbooks that exist")
@guarded
def arazzo(file: str, out: str, sources: dict[str, str], force: bool) -> None:
    """Write one playbook per workflow of an Arazzo 1.x FILE, and say what was not mapped."""
    from runner import api

    done = api.import_arazzo(file, out, sources=sources, force=force)
    for written in done.written:
        echo(f"wrote: {written}")
    if done.environment:
        echo(f"wrote: {done.environment} (the APIs' base URLs: edit it before a run)")
    if done.not_mapped:
        echo(f"not mapped ({len(done.not_mapped)}; also listed at the top of each playbook):")
        for line in done.not_mapped:
            echo(f"  - {line}")
    else:
        echo("every step, criterion and output was mapped")

"""`runner connector new --from DOC NAME` and `runner connector check NAME --against DOC`:
connectors made from, and checked against, an OpenAPI 3 document."""

from __future__ import annotations

import sys

import click

from runner.cli.common import echo, main
from runner.cli.guard import guarded


@main.group()
def connector() -> None:
    """Make a connector from an OpenAPI document, or check one against it."""


@connector.command("new")
@click.argument("name")
@click.option("--from", "doc", required=True, type=click.Path(dir_okay=False),
              metavar="OPENAPI", help="the OpenAPI 3 document (YAML or JSON)")
@click.option("--out", "-o", default=".", show_default=True, type=click.Path(file_okay=False),
              metavar="DIR", help="the repository folder: writes DIR/connectors/NAME.yaml and .py")
@click.option("--force", is_flag=True, help="write over files that are there")
@guarded
def new(name: str, doc: str, out: str, force: bool) -> None:
    """Write a connector file and a simulator skeleton from an OpenAPI 3 document."""
    from runner import api

    made = api.new_connector(doc, name, out, force=force)
    echo(f"wrote {made.connector} ({len(made.operations)} operations) and {made.simulator}")
    for note in made.notes:
        echo(f"  not mapped: {note}" if "not mapped" in note else f"  note: {note}")


@connector.command("check")
@click.argument("name")
@click.option("--against", required=True, type=click.Path(dir_okay=False), metavar="OPENAPI",
              help="the OpenAPI 3 document to compare with")
@guarded
def check(name: str, against: str) -> None:
    """Say where a connector and an OpenAPI document disagree (exit 1 when they do)."""
    from runner import api

    found = api.check_connector(name, against)
    for d in found:
        echo(d.line())
    echo(f"{len(found)} disagreement(s)" if found else f"{name} agrees with {against}")
    if found:
        sys.exit(1)

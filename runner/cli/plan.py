"""`runner plan`: the requests a run would send, secrets redacted; nothing is sent. As text or
Markdown, alone or as a diff against the playbook at a git revision."""

from __future__ import annotations

import click

from runner.cli.common import env_option, inputs_option, main, parse_inputs, root_option
from runner.cli.guard import guarded


@main.command()
@click.argument("playbook", type=click.Path())
@env_option
@inputs_option
@root_option
@click.option("--format", "format_", type=click.Choice(["text", "markdown"]), default="text",
              show_default=True, help="text, or markdown: a comment a CI job can post on a "
              "pull request")
@click.option("--diff", "rev", metavar="REV", default=None,
              help="show the requests the change adds, removes or alters, against the same "
              "playbook at git revision REV (HEAD~1, origin/main)")
@guarded
def plan(playbook: str, env: str, inputs: tuple[str, ...], root: str | None, format_: str,
         rev: str | None) -> None:
    """Show the requests a run would send (secrets redacted); send nothing."""
    from runner import api

    api.plan(playbook, env=env, inputs=parse_inputs(inputs), root=root, format=format_,
             diff=rev)

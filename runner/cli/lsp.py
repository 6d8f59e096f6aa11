"""`runner lsp`: the language server editors start (stdio)."""

from __future__ import annotations

import click

from runner.cli.common import main, root_option
from runner.cli.guard import guarded


@main.command()
@click.option("--stdio", is_flag=True,
              help="talk over stdin and stdout (the only transport; editors pass it)")
@root_option
@guarded
def lsp(stdio: bool, root: str | None) -> None:
    """Serve the language server for playbooks on stdin/stdout (editors start it)."""
    from runner import api

    api.lsp(root=root)

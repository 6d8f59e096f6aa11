"""`runner init`: scaffold a repository of playbooks."""

from __future__ import annotations

import click

from runner.cli.common import echo, main
from runner.cli.guard import guarded


@main.command()
@click.argument("folder", default=".", type=click.Path(file_okay=False), metavar="[DIR]")
@click.option("--force", is_flag=True, help="overwrite the files that exist (default: keep them)")
@guarded
def init(folder: str, force: bool) -> None:
    """Scaffold a repository of playbooks in DIR (default: here)."""
    from runner import api

    done = api.init(folder, force=force)
    for path in done.written:
        echo(f"wrote: {path}")
    for path in done.kept:
        echo(f"kept:  {path} (it exists; --force overwrites it)")
    where = "" if folder == "." else f"cd {folder} && "
    echo(f"next: {where}runner run playbooks/hello.yaml   (in the sandbox: no server, no secret)")

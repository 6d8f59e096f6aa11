"""What every command shares: the ``runner`` group, its common options, reading ``-i``, and
writing to a stdout that may have closed. How a command ends (exit codes) is
:mod:`runner.cli.guard`.
"""

from __future__ import annotations

from typing import Any

import click

from runner import __version__


def echo(text: str) -> None:
    """A line on stdout, which may have closed (``runner run ... | head``): then the lines
    are dropped and the command goes on."""
    try:
        click.echo(text)
    except (OSError, ValueError):
        pass


def parse_inputs(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``-i key=value`` pairs and ``-i @FILE`` files of inputs, merged left to right."""
    from runner import api

    return api.parse_inputs(pairs)


# The table of commands: each name and the module that registers it on `main` when imported.
# A command's module is imported when the command is asked for, so `runner run` loads none of
# the other commands' modules (and `--help` loads them all, to list them).
COMMANDS = {
    "connectors": "connectors", "history": "history", "import": "imports", "init": "init",
    "lsp": "lsp",
    "plan": "plan", "resume": "resume", "run": "run", "sandbox": "sandbox",
    "schedule": "schedules", "scheduler": "schedules", "schema": "schema", "show": "history",
    "ui": "ui", "validate": "validate", "worker": "worker",
}


class _Commands(click.Group):
    """The ``runner`` group, its commands loaded from :data:`COMMANDS` when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            import importlib

            importlib.import_module(f"runner.cli.{module}")  # registers it (@main.command)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runner")
def main() -> None:
    """Run declarative YAML playbooks against vendor APIs."""


env_option = click.option("--env", "-e", "env", default="sandbox", show_default=True,
                          help="sandbox, none (the playbook's settings alone), a name under "
                          "environments/, or an environment file")
store_option = click.option("--store", default=None, metavar="PATH|URL",
                            help="run history: a SQLite file or a SQLAlchemy URL "
                            "(default: $RUNNER_STORE or ~/.local/state/runner/runs.db)")
root_option = click.option("--root", type=click.Path(), metavar="DIR",
                           help="the folder include: must stay inside "
                           "(default: the playbook's folder)")
trace_option = click.option("--trace", is_flag=True,
                            help="send OpenTelemetry traces of the run by OTLP/HTTP to "
                            "$OTEL_EXPORTER_OTLP_ENDPOINT (the traces extra; docs/traces.md)")
inputs_option = click.option("--input", "-i", "inputs", multiple=True, metavar="KEY=VALUE|@FILE",
                             help="a playbook input, or @FILE: a YAML/JSON mapping of "
                             "them (repeatable; later ones win)")


# -- the scheduling and worker commands ----------------------------------------------------
broker_option = click.option(
    "--broker", envvar="RUNNER_BROKER", metavar="URL",
    help="the Celery broker, e.g. redis://127.0.0.1:6379/0 (default: $RUNNER_BROKER)")
queue_option = click.option("--queue", default="runner", show_default=True,
                            help="the broker queue the runs go through")
stale_option = click.option("--stale-after", default=30.0, show_default=True, metavar="SECONDS",
                            help="a running run silent this long is taken to be dead "
                            "and resumed")

"""`runner undo`: run the undo steps of a recorded run's completed steps, the last first."""

from __future__ import annotations

import sys

import click

from runner.cli.common import inputs_option, main, parse_inputs, root_option, store_option
from runner.cli.guard import exit_as_run, guarded, sigterm_as_ctrl_c


@main.command()
@click.argument("run_id")
@inputs_option
@store_option
@click.option("--report-json", type=click.Path(), help="write a JSON report here")
@click.option("--junit", type=click.Path(), help="write a JUnit XML report here")
@click.option("--force", is_flag=True, help="undo even if the run looks alive")
@root_option
@guarded
def undo(run_id: str, inputs: tuple[str, ...], store: str | None, report_json: str | None,
         junit: str | None, force: bool, root: str | None) -> None:
    """Undo a finished run: run the undo: steps of its completed steps, the last first (or go
    on with an undo that was stopped). Exit 0 undone, 1 an undo step failed, 2 refused
    (nothing to undo, undone already, the playbook changed), 130 interrupted."""
    from runner import api

    sigterm_as_ctrl_c()
    result = api.undo(run_id, store=store, inputs=parse_inputs(inputs), force=force,
                      report_json=report_json, junit=junit, root=root)
    if result.status in ("errored", "interrupted") or result.undo_status == "interrupted":
        exit_as_run(result)
    sys.exit(0 if result.undo_status == "undone" else 1)

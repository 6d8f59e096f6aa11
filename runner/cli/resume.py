"""`runner resume`: continue a crashed, interrupted or failed run."""

from __future__ import annotations

import click

from runner.cli.common import (
    exit_as_run,
    guarded,
    inputs_option,
    main,
    parse_inputs,
    root_option,
    sigterm_as_ctrl_c,
    store_option,
)


@main.command()
@click.argument("run_id")
@inputs_option
@store_option
@click.option("--report-json", type=click.Path(), help="write a JSON report here")
@click.option("--junit", type=click.Path(), help="write a JUnit XML report here")
@click.option("--force", is_flag=True, help="resume even if the run looks alive")
@root_option
@guarded
def resume(run_id: str, inputs: tuple[str, ...], store: str | None, report_json: str | None,
           junit: str | None, force: bool, root: str | None) -> None:
    """Continue a crashed, interrupted or failed run; finished steps are not sent again."""
    from runner import api

    sigterm_as_ctrl_c()
    result = api.resume(run_id, store=store, inputs=parse_inputs(inputs), force=force,
                        report_json=report_json, junit=junit, root=root)
    exit_as_run(result)

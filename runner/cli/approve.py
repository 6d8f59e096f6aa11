"""`runner approve RUN_ID` and `runner reject RUN_ID`: answer a run waiting at an `approve`
step (from any terminal or machine that shares its store)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import click

from runner.cli.common import broker_option, echo, main, queue_option, store_option
from runner.cli.guard import guarded
from runner.printable import printable

_as = click.option("--as", "by", metavar="NAME", help="who answers (default: the OS user)")
_show = click.option("--show", is_flag=True,
                     help="only show what the run waits for and the calls to come")


def _print(out: dict[str, Any]) -> None:
    until = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(out["until"]))
    echo(printable(f"run {out['run_id']} waits at {out['step']} (deadline {until} UTC): "
                   f"{out['question']}"))
    if out["to_come"]:
        echo("calls not safe to repeat still to come:")
        for line in out["to_come"]:
            echo(printable(line))
    else:
        echo("no call not safe to repeat is still to come")
    if out["answer"]:
        echo(f"{out['answer']} by {printable(out['by'])}")
        if out["woken"]:
            echo("the run was parked on the workers: handed to them now to go on")
        elif out["parked"]:
            echo("the run is parked on the workers: it takes the answer when it wakes (at the "
                 "deadline); give --broker (or $RUNNER_BROKER) to wake it now")


def _answering(func: Callable[..., None]) -> Callable[..., None]:
    """The options approve and reject share (the outermost first)."""
    for option in reversed((click.argument("run_id"), _as, _show, store_option, broker_option,
                            queue_option)):
        func = option(func)
    return func


@main.command()
@_answering
@guarded
def approve(run_id: str, by: str | None, show: bool, store: str | None, broker: str | None,
            queue: str) -> None:
    """Approve a run waiting at an approve: step; it goes on."""
    from runner.api import approve as answer

    _print(answer(run_id, by=by, store=store, show=show, broker=broker, queue=queue))


@main.command()
@_answering
@guarded
def reject(run_id: str, by: str | None, show: bool, store: str | None, broker: str | None,
           queue: str) -> None:
    """Reject a run waiting at an approve: step; it fails there."""
    from runner.api import reject as answer

    _print(answer(run_id, by=by, store=store, show=show, broker=broker, queue=queue))

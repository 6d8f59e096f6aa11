"""``runner approve`` / ``runner reject``: answering a run that waits at an `approve` step.

The run's store says which step waits (its ``waiting`` row, :mod:`runner.callback_inbox`);
the answer is an ``approval`` row at that step's key, with who and when, which the waiting run
(in whichever process or machine) finds on its next look. Before answering, the approver is
shown the plan of the calls not safe to repeat that are still to come (:func:`to_come`): the
playbook planned with the run's recorded inputs (secret ones masked), from the step after the
approval on.
"""

from __future__ import annotations

import getpass
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.callback_inbox import add, rows
from runner.environment import load_environment
from runner.errors import InvalidInput, RunnerError
from runner.plan import build_plan
from runner.plan_model import Request, Step
from runner.plan_text import request_lines
from runner.playbook import load_playbook
from runner.secrets import Redactor
from runner.store import Store


@dataclass
class Pending:
    """A run waiting at an ``approve:`` step, as ``runner approve`` lists it."""
    run_id: str
    key: str  # the approve step's journal key
    question: str
    step: str  # its file:line
    until: float
    row: dict[str, Any]  # the run's record


def pending(store: Store, run_id: str) -> Pending:
    """The approval ``run_id`` waits for; refused when it waits for none."""
    row = store.get_run(run_id)
    if row is None:
        raise InvalidInput(f"no run {run_id} in the store {store.url}",
                           hint="runner history lists the runs; approve from a machine that "
                           "shares the run's --store")
    waits = [e for e in store.entries(run_id) if e.event == "waiting"
             and e.data.get("for") == "approval"]
    for e in reversed(waits):
        if not rows(store, run_id, e.step_key, "approval"):
            if row["status"] not in ("waiting", "parked"):  # parked: on workers, held by none
                break
            return Pending(run_id, e.step_key, str(e.data.get("question", "")),
                           str(e.data.get("step", "")), float(e.data.get("until") or 0), row)
    raise InvalidInput(f"run {run_id} is {row['status']}, not waiting for an approval",
                       hint="runner history --status waiting lists the runs that wait")


def decide(store: Store, wait: Pending, approved: bool, by: str | None = None) -> str:
    """Record the answer; returns who gave it."""
    who = by or getpass.getuser()
    if time.time() >= wait.until:
        raise InvalidInput(f"run {wait.run_id}: its approval's deadline has passed",
                           hint="the run rejects it on its next look")
    add(store, wait.run_id, wait.key, "approval", "approved" if approved else "rejected",
        {"by": who, "at": time.time()})
    return who


def to_come(wait: Pending) -> list[str]:
    """The plan of the calls not safe to repeat after the approval, as text (secrets masked);
    a line saying why when the playbook cannot be planned any more."""
    row = wait.row
    redactor = Redactor()
    try:
        playbook = load_playbook(row["file"])
        env = load_environment(row["environment"], search=None)
        plan = build_plan(playbook, env, row.get("inputs") or {}, redactor)
    except RunnerError as e:
        return [f"(the plan cannot be shown: {e.message})"]
    after, lines, here = False, [], _resolved(wait.step)
    for entry in _walk([*plan.steps, *plan.finally_steps]):
        if isinstance(entry, Step) and _resolved(entry.location) == here:
            after = True
        elif after and isinstance(entry, Request) and not entry.safe:
            lines += [redactor.redact(line) for line in request_lines(entry)]
    return lines


def _resolved(location: str) -> str:
    file, _, line = location.rpartition(":")
    return f"{Path(file).resolve()}:{line}"


def _walk(entries: list[Any]) -> Iterator[Any]:
    for entry in entries:
        yield entry
        if isinstance(entry, Step):
            yield from _walk(entry.entries)

"""Undo: the calls that compensate a run's completed steps, run last first.

A non-safe call step may carry ``undo:``, a list of calls that take back what it did (delete
the channel it created). Each time such a step passes (each iteration of a loop), or fails
with a request that may have taken effect (no answer, or one that does not prove it was not
applied: a 5xx, a dropped connection), the run keeps what its undo steps read: its extracted
values, the loop's variable and ``loop``, and its answer as ``response`` (an
:class:`Undoable`, journaled ``undoable``). When a later step fails (or errors) the undo runs:
the kept steps' undo steps, the last step passed first, each step's list in its order, over
the run's scope with the kept values on top. An undo step that fails ends its own list (the
next would read what it left) and the other steps' undos still run. The run's status stays
what the steps made it (``failed``); ``RunResult.undo_status`` says ``undone`` or
``partly-undone``. The ``finally`` steps run after the undo.

Journaled (key ``undo``): ``started`` with the failure it began on, then the undo steps as
steps are journaled (keys ``undo/<step key>/<n>``), then ``undone`` / ``partly-undone``. So a
run killed mid-undo resumes in the undo (``runner resume``): the forward steps are only put
back, the undo steps done are not sent again, one sent with no answer is not sent blindly.
``runner undo RUN_ID`` begins the undo of a finished run by the same path. Ctrl-C or SIGTERM
stops the run without undoing it (``interrupted``): ``runner resume`` continues it, ``runner
undo`` takes it back; during the undo it stops the undo, which ``runner resume`` continues.

A value the journal keeps is masked where it was a secret: an undo step of a step put back
from the journal whose request would carry ``***`` is not sent, and fails saying so.
"""

from __future__ import annotations

import json
import threading
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from runner.errors import InternalError, RunnerError, StepFailed
from runner.journal import ResumeState, restored_response
from runner.model import Playbook, Step
from runner.results import ERRORED, FAILED, PASSED, RunResult, StepResult
from runner.secrets import MASK
from runner.steps.runtime import Runtime, Scope

if TYPE_CHECKING:
    from runner.journal import Journal

UNDONE, PARTLY, STOPPED = "undone", "partly-undone", "interrupted"


class UndoRuntime(Runtime, Protocol):
    """The run, as the undo needs it (``runner.run_loop.Runtime`` is one)."""

    @property
    def resume(self) -> ResumeState | None: ...

    @property
    def cancel(self) -> threading.Event: ...

    def run_step(self, step: Step, scope: Scope, key: str, iteration: int | None = None,
                 trail: str = "") -> StepResult: ...


@dataclass
class Undoable:
    """A step that passed and has undo steps: what they read on top of the run's scope."""

    step: Step
    key: str
    trail: str
    values: dict[str, Any]
    restored: bool = False  # read back from the journal: secrets in it are masked


class UndoStack:
    """The run's undoable steps, in the order they passed (iterations of a concurrent loop
    in the order they ended)."""

    def __init__(self) -> None:
        self.items: list[Undoable] = []
        self._lock = threading.Lock()

    def push(self, journal: Journal | None, step: Step, key: str, trail: str, scope: Scope,
             iteration: int | None) -> None:
        values = {n: scope[n] for n, _ in step.extract if n in scope}
        if iteration is not None:
            values[step.loop_var] = scope.get(step.loop_var)
            values["loop"] = scope.get("loop")
        response = scope.get("response")
        if journal is not None:
            journal.undoable(key, trail, values, response)
        with self._lock:  # a step resumed and done now (its resume-check) replaces its own
            self.items = [i for i in self.items if i.key != key]
            self.items.append(Undoable(step, key, trail, {**values, "response": response}))

    def load(self, resume: ResumeState, playbook: Playbook) -> None:
        """The undoable steps an earlier attempt journaled (before this attempt's own)."""
        for key, data in resume.undoable.items():
            step = step_at(playbook, key)
            if step is None or not step.undo:
                continue  # an edited playbook's step that is gone (--remap)
            values = dict(data.get("values") or {})
            if data.get("response"):
                values["response"] = restored_response(data["response"])
            self.items.append(Undoable(step, key, data.get("trail") or step.id, values,
                                       restored=True))


def step_at(playbook: Playbook, key: str) -> Step | None:
    """The step a journal key names (``steps/3[1]>steps/0``), or None."""
    book: Playbook | None = playbook
    step = None
    for part in key.split(">"):
        section, _, index = part.split("[")[0].partition("/")
        if book is None or not index.isdigit():
            return None
        steps = book.steps if section == "steps" else book.finally_steps
        if int(index) >= len(steps):
            return None
        step = steps[int(index)]
        book = step.include
    return step


def began_on(status: str, error: str | None, hint: str | None,
             step: str | None) -> dict[str, Any]:
    """What the journal's ``started`` keeps of the failure the undo began on."""
    return {"status": status, "error": error, "hint": hint, "step": step}


def recorded_failure(began: Mapping[str, Any]) -> RunnerError | None:
    """The failure an undo began on, as the run ends with it again (None: the run passed
    and was undone on request)."""
    status = began.get("status")
    if status == PASSED:
        return None
    error = str(began.get("error") or status or "failed")
    if status == "interrupted":
        error = f"{error}; undone on request (runner undo)"
    kind = InternalError if status == ERRORED else StepFailed
    return kind(error, hint=began.get("hint"), step=str(began.get("step") or ""))


def restore_only(rt: UndoRuntime, steps: tuple[Step, ...], scope: Scope,
                 results: list[StepResult]) -> None:
    """Put back the steps an earlier attempt finished, run none: the run is being undone."""
    assert rt.resume is not None
    for step in steps:
        key = f"{step.path[0]}/{step.path[1]}"
        if rt.resume.done(key) is not None:
            results.append(rt.run_step(step, scope, key))


def run_undos(rt: UndoRuntime, stack: UndoStack, scope: Scope, run: RunResult,
              began: Mapping[str, Any], *, again: bool = False) -> None:
    """Run the undo steps of ``stack``, the last step passed first (see the module's notes);
    ``again``: the undo began in an earlier attempt (its ``started`` is journaled)."""
    if rt.journal is not None and not again:
        rt.journal.undo("started", began)
    run.undo_status = STOPPED  # until it ends
    rt.emit("undo_started", len(stack.items), str(began.get("error") or ""))
    failed = False
    for item in reversed(stack.items):
        for j, undo in enumerate(item.step.undo):
            key = f"undo/{item.key}/{j}"
            local: Scope = ChainMap({}, item.values, scope)
            trail = f"undo {item.trail} > {undo.id}"
            result = _masked(rt, item, undo, local, key, trail) or \
                rt.run_step(undo, local, key, trail=trail)
            run.undone.append(result)
            if result.status in (FAILED, ERRORED):
                failed = True
                break
        if rt.cancel.is_set():
            return  # Ctrl-C or SIGTERM: runner resume continues the undo
    run.undo_status = PARTLY if failed else UNDONE
    if rt.journal is not None:
        rt.journal.undo(run.undo_status)
    rt.emit("undo_finished", run.undo_status)


def _masked(rt: UndoRuntime, item: Undoable, undo: Step, scope: Scope, key: str,
            trail: str) -> StepResult | None:
    """A failed result, without sending, for an undo step of a step put back from the
    journal whose request would carry a masked value; None: run it."""
    if not item.restored or (rt.resume is not None and rt.resume.done(key) is not None):
        return None
    from runner.steps.sending import build_call

    try:
        call = build_call(rt, undo.spec, scope)
    except RunnerError:
        return None  # the step itself says what is wrong with it
    if MASK not in json.dumps(call.record(), ensure_ascii=False, default=str):
        return None
    result = StepResult(undo.id, undo.label, undo.kind, undo.target, undo.name, key=key,
                        trail=trail, where=f"{undo.location.file}:{undo.location.line}")
    result.status = FAILED
    result.error = (f"not sent: it would send {MASK} where {item.trail} read a secret, which "
                    "the journal keeps masked (the run was resumed)")
    result.hint = f"undo {item.trail} by hand: {undo.target} with the secret it needs"
    rt.emit("step_started", result, None)
    if rt.journal is not None:
        rt.journal.finished(key, FAILED, {}, None)
    rt.emit("step_finished", result, None)
    return result

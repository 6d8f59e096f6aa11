"""The engine: ``execute`` runs a playbook's steps in order, then its ``finally`` steps, and
reports events; with a store, the run is recorded and journaled.

The rooms it uses: ``runner.run_state`` (what a run shares: connectors, secrets, events),
``runner.run_loop`` (the step loop: when, loop, journal entries, includes), ``runner.restore``
(resuming a step), ``runner.steps`` (what each kind of step does), ``runner.redacted_json``.
Steps get the runtime, the step, the scope (variables) and the step's result to fill in; they
raise ``StepFailed`` to fail.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner import tracing
from runner.environment import Environment
from runner.errors import (
    InternalError,
    Interrupted,
    InvalidInput,
    PlaybookError,
    RunnerError,
    StepFailed,
)
from runner.fingerprint import fingerprint
from runner.heartbeats import hold
from runner.inputs import (
    coerce_inputs,
    masked_inputs,
    register_secret_inputs,
    secret_inputs,
)
from runner.journal import Journal, ResumeState
from runner.model import Playbook
from runner.redacted_json import redacted_json
from runner.results import ERRORED, FAILED, INTERRUPTED, PARKED, Listener, RunResult
from runner.run_ids import new_run_id
from runner.run_loop import Runtime
from runner.run_state import Parked, signal_name
from runner.secrets import Redactor
from runner.steps.common import render
from runner.steps.runtime import Scope
from runner.store import Store
from runner.store_db import StoreConflict
from runner.templating import SECRET_INPUTS, shown
from runner.undo import began_on, recorded_failure, restore_only, run_undos

if TYPE_CHECKING:
    from runner.sandbox import Sandbox


def execute(playbook: Playbook, env: Environment, inputs: Mapping[str, Any], *,
            listeners: list[Listener] | None = None, redactor: Redactor | None = None,
            run_id: str | None = None, sandbox: Sandbox | None = None,
            store: Store | None = None, resume: ResumeState | None = None,
            dedup_key: str | None = None, cancel: threading.Event | None = None,
            batch_id: str | None = None, batch_row: int | None = None,
            park_after: float | None = None) -> RunResult:
    """Run a playbook to the end; never raises for a step failure (see ``RunResult.status``).

    With a sandbox environment the simulators are started for this run and stopped after it,
    unless the caller passes its own ``sandbox`` (tests do, to look at the simulators).
    With a ``store`` the run is recorded and journaled step by step; with ``resume`` (the
    journal of an earlier attempt of ``run_id``) finished steps are restored, not run again.
    Setting ``cancel`` from another thread stops the run as Ctrl-C does: at its next step or
    wait, with status ``interrupted`` (resumable), after its ``finally`` steps.
    When a step fails, the undo steps of the steps that passed run before the ``finally``
    steps (:mod:`runner.undo`); a ``resume`` whose ``undo`` is set goes on with (or begins)
    the undo: its steps are only put back.
    ``resume`` is used as handed: checking it against the playbook (and refusing an edited
    one) is :func:`runner.resume.resume_run`'s, the one place a recorded run is taken up.
    ``batch_id``/``batch_row``: the batch this run is a row of (``runner run --inputs-from``).
    ``park_after`` (a worker's): a wait of a step this long or longer ends this attempt there:
    the run is recorded ``parked`` (status), its wake time in its ``heartbeat`` column, owned
    by nobody, and returned with that status; its ``finally`` steps run when it really ends.
    Not in the sandbox: its simulators (their jobs, their callbacks) end with the attempt.
    """
    redactor = redactor or Redactor()
    listeners = listeners or []
    values = coerce_inputs(playbook, inputs)
    register_secret_inputs(playbook, values, redactor)
    run = RunResult(run_id or new_run_id(), playbook.name, playbook.file, env.name,
                    redactor.redact_data(masked_inputs(playbook, values)))
    journal = None
    if store is not None:
        made = fingerprint(playbook)
        if resume is None:
            # absolute paths, so that `runner resume` works from any directory
            where = str(Path(env.source).resolve()) if env.source else env.name
            if not _create(store, run, playbook, where, dedup_key, made, batch_id, batch_row):
                raise InvalidInput(f"run {run.run_id} ({dedup_key}) is already recorded",
                                   hint="it ran already; see runner history")
        else:
            store.update_run(run.run_id, status="running", error=None, hint=None,
                             fingerprint=made)
        journal = Journal(store, run.run_id, redactor)
    if not env.sandbox:
        sandbox = None  # a caller's sandbox applies to sandbox environments only
    own_sandbox = sandbox is None and env.sandbox
    if own_sandbox:
        from runner.sandbox import Sandbox  # the simulators' modules, for a sandbox run only

        sandbox = Sandbox(env.simulators)
    rt = Runtime(env, redactor, listeners, sandbox, journal, resume, cancel)
    # a sandbox's simulators live and die with this attempt: its runs wait in their slot
    rt.park_after = park_after if journal is not None and not env.sandbox else None
    undoing = resume is not None and resume.undo is not None  # an undo to begin or go on with
    if resume is not None:
        rt.undos.load(resume, playbook)
    scope: Scope = {"inputs": values, "steps": {}, "secrets": rt.secrets,
                    "run": {"id": run.run_id, "environment": env.name},
                    SECRET_INPUTS: secret_inputs(playbook)}
    # a run recorded here has no owner: this process's heartbeat holds it by its id while it
    # runs (a resumed one is held by its attempt's owner, runner.resume)
    beating = hold(store, run_id=run.run_id) if store is not None and resume is None else None
    started = time.perf_counter()
    span = tracing.run_started(run, redactor)  # None: traces off
    failure: RunnerError | None = None
    completed = False  # the engine reached the end: only such a run may pass
    parked: Parked | None = None  # the attempt gave its worker slot back in a wait
    try:
        try:
            rt.emit("run_started", run)
            rt.declare(playbook, values)  # setting templates read these inputs
            if undoing:  # its steps are only put back: the run goes the other way now
                assert resume is not None and resume.undo is not None
                restore_only(rt, playbook.steps, scope, run.steps)
                failure = recorded_failure(resume.undo)
            else:
                failure = rt.run_steps(playbook.steps, scope, run.steps)
            rt.park_after = None  # the undo and finally steps run in this attempt, to the end
            if (failure is not None or undoing) and not rt.cancel.is_set() and rt.undos.items:
                _undo(rt, run, scope, failure, resume)
        except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (runner.cli turns it into one)
            rt.cancel.set()
            failure = Interrupted(f"interrupted by {signal_name(e)}")
        except RunnerError:
            raise
        except Exception as e:  # outside any step: still errored, and the finally steps run
            failure = rt.crashed(e)
        if rt.cancel.is_set() and failure is not None:  # Ctrl-C, or stopped by the caller
            stopped = Interrupted(f"interrupted by {rt.stopped_by}" if rt.stopped_by else
                                  failure.message if isinstance(failure, Interrupted)
                                  else "interrupted",
                                  hint=f"continue it with: runner resume {run.run_id}"
                                  if store is not None else None)
            stopped.step = getattr(failure, "step", "")  # where it stopped
            failure = stopped
        rt.cancel.clear()
        try:
            final = rt.run_steps(playbook.finally_steps, scope, run.steps, keep_going=True)
        except KeyboardInterrupt as e:  # a second Ctrl-C stops the finally steps too
            final = Interrupted(f"interrupted by {signal_name(e)} during the finally steps",
                                hint=f"continue it with: runner resume {run.run_id}"
                                if store is not None else None)
        if final is not None and rt.cancel.is_set() and not isinstance(final, Interrupted):
            # the first signal came in a finally step, which stopped on it: stopped, not failed
            stopped = Interrupted(f"interrupted by {rt.stopped_by}" if rt.stopped_by
                                  else "interrupted",
                                  hint=f"continue it with: runner resume {run.run_id}"
                                  if store is not None else None)
            stopped.step = getattr(final, "step", "")
            final = stopped
        failure = failure or final
        if failure is None:
            run.outputs = redactor.redact_data(_outputs(rt, playbook, scope))
        completed = True
    except Parked as e:
        parked = e
    except StepFailed as e:
        failure = e
    except InvalidInput as e:  # e.g. a secret missing: record it, then let the CLI say so
        failure = e
        raise
    except RunnerError:
        raise  # a lost ownership: the run is another worker's now
    except Exception as e:
        failure = rt.crashed(e)
    finally:
        rt.close()
        if own_sandbox and sandbox is not None:
            sandbox.stop()
        run.duration_ms = (time.perf_counter() - started) * 1000
        if rt.crash is not None:  # an internal error anywhere, even in an iteration: errored
            failure = rt.crash
        elif failure is None and not completed and parked is None:
            failure = InternalError("the run stopped before its end")
        if failure is not None:
            run.status = INTERRUPTED if isinstance(failure, Interrupted) else \
                ERRORED if isinstance(failure, InternalError) else FAILED
            run.error = redactor.redact(_located(failure))
            run.hint = redactor.redact(failure.hint) if failure.hint else None
            run.failed_step = getattr(failure, "step", None) or None
        elif parked is not None:
            run.status = PARKED
        try:
            if store is not None and run.status == PARKED:
                assert parked is not None  # released: the worker the broker wakes it on claims it
                store.update_run(run.run_id, status=PARKED, heartbeat=parked.until,
                                 owner=None, duration_ms=run.duration_ms)
            elif store is not None:
                _record(rt, store, run)
        finally:  # also when the run turned out to be another worker's: the span ends here
            if beating is not None:
                beating.release()
            tracing.run_finished(span, run)
    run.traceback = rt.crash_traceback or None
    if run.status != PARKED:  # a parked run has not ended: it is resumed at its wake time
        rt.emit("run_finished", run)
    return run


def _undo(rt: Runtime, run: RunResult, scope: Scope, failure: RunnerError | None,
          resume: ResumeState | None) -> None:
    """Undo the steps that passed (runner.undo): on the failure that ended them, or as the
    journal (or ``runner undo``) began it."""
    if resume is not None and resume.undo is not None:
        began = resume.undo
    else:
        status = ERRORED if isinstance(failure, InternalError) else FAILED
        began = began_on(status, rt.redactor.redact(_located(failure)) if failure else None,
                         failure.hint if failure else None, getattr(failure, "step", None))
    run_undos(rt, rt.undos, scope, run, began,
              again=resume is not None and resume.undo_begun)


def _create(store: Store, run: RunResult, playbook: Playbook, where: str, dedup_key: str | None,
            made: dict[str, Any], batch_id: str | None, batch_row: int | None) -> bool:
    """The run's row; False when its ``dedup_key`` ran already. An id that another process's
    run holds (runner.run_ids) is replaced: that run is not this one."""
    for tries in range(8):
        try:
            return store.create_run(run.run_id, playbook.name,
                                    str(Path(playbook.file).resolve()), where, run.inputs,
                                    dedup_key=dedup_key, fingerprint=made, batch_id=batch_id,
                                    batch_row=batch_row)
        except StoreConflict:
            if tries == 7:
                raise
            run.run_id = new_run_id()
    return False  # not reached


def _outputs(rt: Runtime, playbook: Playbook, scope: Scope) -> dict[str, Any]:
    """The playbook's outputs, each rendered on its own: one that fails names its own line."""
    out = {}
    seen = shown(scope)  # a value a resume withheld shows as its mask (nothing is sent)
    for name, value in playbook.outputs.items():
        try:
            out[name] = render(rt, value, seen, f"outputs > {name}")
        except StepFailed as e:
            loc = playbook.doc.loc(("outputs", name))
            e.where = f"{loc.file}:{loc.line}"
            raise
    return out


def _located(failure: RunnerError) -> str:
    """The run's error, with the file:line of the step it happened in first: history, `runner
    show`, the reports and the notifications name the place as the console does. Not for a
    run stopped by Ctrl-C: where it stopped is no fault of a step."""
    where = failure.where
    if isinstance(failure, PlaybookError) and failure.location is not None:
        where = f"{failure.location.file}:{failure.location.line}"
    if not where or isinstance(failure, Interrupted):
        return failure.message
    return f"{where}: {failure.message}"


def _record(rt: Runtime, store: Store, run: RunResult) -> None:
    """The run's end in the store; when the store cannot take it (a full disk), the run is
    errored and says what the store still shows."""
    try:
        store.update_run(run.run_id, status=run.status, finished=time.time(),
                         duration_ms=run.duration_ms, error=run.error, hint=run.hint,
                         failed_step=run.failed_step, outputs=run.outputs,
                         report=redacted_json(rt.redactor, run.to_dict()))
    except RunnerError:
        raise  # a lost ownership: the run is another worker's now
    except Exception as e:
        error = rt.crashed(e)
        was = run.status
        run.status, run.unrecorded = ERRORED, True
        run.error = rt.redactor.redact(f"{error.message}; the run could not be recorded as "
                                       f"{was}: the store still shows it running")
        run.hint = (f"free space on the store's disk (or bring its database back), then: "
                    f"runner resume {run.run_id} --force")

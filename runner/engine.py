"""The engine: runs a playbook's steps in order, then its `finally` steps, and reports events.

A :class:`Runtime` holds what one run shares: the environment, one client per connector alias
(one HTTP session, one token), the renderer and the redactor, the listeners, and a cancel
event so Ctrl-C interrupts a poll's wait at once. Steps get the runtime, the step, the scope
(variables) and the step's result to fill in; they raise ``StepFailed`` to fail.
"""

from __future__ import annotations

import json
import secrets as _secrets
import threading
import time
import traceback
from collections import ChainMap
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from runner.connectors import registry
from runner.connectors.base_url import check_base_url
from runner.connectors.client import ConnectorClient
from runner.connectors.outcome import NOT_APPLIED
from runner.environment import Environment
from runner.errors import (
    InternalError,
    Interrupted,
    InvalidInput,
    RunnerError,
    StepFailed,
    Terminated,
)
from runner.fingerprint import fingerprint
from runner.inputs import (
    coerce_inputs,
    masked_inputs,
    new_run_id,
    register_secret_inputs,
    secret_inputs,
)
from runner.journal import Journal, ResumeState, restored_response
from runner.model import ConnectorRef, Playbook, Step
from runner.results import (
    ERRORED,
    FAILED,
    INTERRUPTED,
    PASSED,
    SKIPPED,
    Listener,
    RunResult,
    StepResult,
)
from runner.sandbox import Sandbox
from runner.secrets import Redactor
from runner.steps import auth, call, check, extract, include, poll
from runner.steps.common import Scope, apply_extract, build_call, evaluate, render, send
from runner.store import Store
from runner.templating import SECRET_INPUTS, Renderer

STEP_RUNNERS = {
    "call": call.run, "poll": poll.run, "auth": auth.run, "extract": extract.run,
    "assert": check.run, "include": include.run,
}


class Runtime:
    def __init__(self, env: Environment, redactor: Redactor, listeners: list[Listener],
                 sandbox: Sandbox | None = None, journal: Journal | None = None,
                 resume: ResumeState | None = None,
                 cancel: threading.Event | None = None) -> None:
        self.env = env
        self.journal = journal
        self.resume = resume
        self.redactor = redactor
        self.listeners = listeners
        self.sandbox = sandbox
        self.renderer = Renderer(on_secret=redactor.add)
        self.refs: dict[str, ConnectorRef] = {}
        self.clients: dict[str, ConnectorClient] = {}
        self.cancel = cancel or threading.Event()  # set: stop at the next step or wait
        self._lock = threading.Lock()
        self.crash: InternalError | None = None  # the first internal error of the run
        self.crash_traceback = ""
        self.stopped_by = ""  # "Ctrl-C" or "SIGTERM", when one stopped a step
        self.secrets = self._load_secrets()

    # -- connectors ------------------------------------------------------------------------
    def declare(self, playbook: Playbook) -> None:
        for alias, ref in playbook.connectors.items():
            known = self.refs.get(alias)
            if known is not None and known.use != ref.use:
                raise InvalidInput(f"{ref.location}: connector alias '{alias}' means "
                                   f"'{ref.use}' here and '{known.use}' at {known.location}",
                                   hint="give one of them another alias")
            self.refs.setdefault(alias, ref)
        for step in (*playbook.steps, *playbook.finally_steps):
            if step.include is not None:
                self.declare(step.include)

    def client(self, alias: str) -> ConnectorClient:
        with self._lock:
            client = self.clients.get(alias)
            if client is None:
                client = self.clients[alias] = self._make_client(alias)
            return client

    def _make_client(self, alias: str) -> ConnectorClient:
        ref = self.refs[alias]
        spec = registry.get(ref.use)
        settings: dict[str, Any] = {k: s.default for k, s in spec.settings.items()
                                    if s.default is not None}
        settings.update(ref.settings)
        if self.sandbox is not None:
            self.sandbox.start([ref.use])
            settings.update(self.sandbox.settings(ref.use))
        else:
            for key, value in self.env.settings_for(alias, ref.use).items():
                s = spec.settings.get(key)
                if s is not None and s.secret and not isinstance(value, dict):
                    loc = self.env.doc.loc(("connectors", alias, key)) if self.env.doc else ""
                    raise InvalidInput(f"{loc}: '{key}' is a secret and must not be written in "
                                       "the environment file",
                                       hint=f"write {key}: {{secret: ENV_VAR_NAME}} and export it")
                settings[key] = self.env.resolve(value, f"{alias}.{key}")
        missing = [k for k, s in spec.settings.items() if s.required and k not in settings]
        if missing:
            where = self.env.source or "the environment"
            raise InvalidInput(f"connector '{alias}' ({ref.use}) needs setting '{missing[0]}'",
                               hint=f"set connectors.{alias}.{missing[0]} in {where}, "
                               "or run with --env sandbox")
        check_base_url(settings.get("base_url"), setting=f"connectors.{alias}.base_url",
                       origin=setting_origin(self.env, ref, "base_url"), redactor=self.redactor)
        return ConnectorClient(alias, spec, settings, self.redactor)

    def _load_secrets(self) -> Mapping[str, str]:
        if self.sandbox is not None:
            return _SandboxSecrets(self.redactor)
        values = {}
        for name, ref in self.env.secret_refs.items():
            values[name] = self.env.lookup_secret(ref, f"secrets.{name}")
            self.redactor.add(values[name])
        return values

    def close(self) -> None:
        for c in self.clients.values():
            c.close()

    # -- events and time -------------------------------------------------------------------
    def emit(self, event: str, *args: Any) -> None:
        for listener in self.listeners:
            getattr(listener, event)(*args)

    def sleep(self, seconds: float) -> None:
        if self.cancel.wait(seconds):
            raise Interrupted("interrupted")

    def crashed(self, e: Exception, result: StepResult | None = None) -> InternalError:
        """Record an exception nobody expected (a bug, a full disk): the step, if any, and so
        the run, end ``errored``; the first one is the run's, with its traceback."""
        where = "" if result is None else result.label if result.trail == result.step_id \
            else f"step '{result.trail}'"
        error = InternalError.of(e, step=where)
        with self._lock:
            if self.crash is None:
                self.crash = error
                self.crash_traceback = self.redactor.redact(traceback.format_exc())
        if result is not None:
            result.status = ERRORED
            result.error = self.redactor.redact(error.message)
            result.hint = self.redactor.redact(error.hint) if error.hint else None
        return error

    def remember(self, step: Step, scope: Scope, **extra: Any) -> None:
        steps = scope["steps"]
        entry = dict(extra)
        entry.update({name: scope.get(name) for name, _ in step.extract})
        steps[step.id] = entry

    # -- running ---------------------------------------------------------------------------
    def run_steps(self, steps: tuple[Step, ...], scope: Scope, results: list[StepResult],
                  *, keep_going: bool = False, prefix: str = "",
                  trail: str = "") -> RunnerError | None:
        """Run ``steps``; stop at the first failure unless ``keep_going``; return it."""
        first: RunnerError | None = None
        for step in steps:
            result = self.run_step(step, scope, f"{prefix}{step.path[0]}/{step.path[1]}",
                                   trail=f"{trail}{step.id}")
            results.append(result)
            if result.status in (FAILED, ERRORED) and first is None:
                kind = InternalError if result.status == ERRORED else StepFailed
                first = kind(result.error or "failed", hint=result.hint, step=step.label)
                if not keep_going:
                    break
        return first

    def run_step(self, step: Step, scope: Scope, key: str, iteration: int | None = None,
                 trail: str = "") -> StepResult:
        result = StepResult(step.id, step.label, step.kind, step.target, step.name, key=key,
                            trail=trail or step.id)
        try:
            self._run_step(step, scope, key, iteration, result)
        except RunnerError:
            raise  # invalid input (a missing secret), a lost ownership: the caller's to handle
        except Exception as e:  # in the journal or a listener, after the step's own work
            self.crashed(e, result)
        return result

    def _run_step(self, step: Step, scope: Scope, key: str, iteration: int | None,
                  result: StepResult) -> None:
        self.emit("step_started", result, iteration)
        done = self.resume.done(key) if self.resume is not None else None
        if done is not None:
            self._restore(step, scope, done, result)
            self.emit("step_finished", result, iteration)
            return
        started = time.perf_counter()
        before = scope.get("response")
        try:
            if self.cancel.is_set():  # the run is being stopped: start nothing new
                raise Interrupted("interrupted before it started")
            # with a loop, `when` is checked for each item (it may read the loop variable)
            if step.when is not None and iteration is None and step.loop is None \
                    and not self._when(step, scope):
                result.status = SKIPPED
                result.skipped_reason = f"when: {step.when}"
            elif step.loop is not None and iteration is None:
                self._loop(step, scope, result, key)
            elif self.resume is not None and self.resume.blocked(key):
                self._resume_check(step, scope, result, self.resume.blocked(key) or "")
            else:
                STEP_RUNNERS[step.kind](self, step, scope, result)
        except StepFailed as e:
            result.status = FAILED
            result.error = self.redactor.redact(e.message)
            result.hint = self.redactor.redact(e.hint) if e.hint else None
        except Interrupted as e:  # stopped in a wait (a poll, a retry's backoff) or before
            result.status = FAILED
            result.error = e.message
        except KeyboardInterrupt as e:  # Ctrl-C or SIGTERM: the run stops in this step
            self.cancel.set()
            self.stopped_by = _signal(e)
            result.status = FAILED
            result.error = f"interrupted by {self.stopped_by}"
        except InvalidInput as e:  # e.g. a missing secret, found when a connector starts
            result.status = FAILED
            result.error, result.hint = e.message, e.hint
            raise
        except RunnerError:
            raise  # a lost ownership (another worker took the run over): stop here
        except Exception as e:  # a bug, a hook that raised, a full disk: the run is errored
            self.crashed(e, result)
        finally:
            result.duration_ms = (time.perf_counter() - started) * 1000
        if self.journal is not None:
            if iteration is not None and self.resume is not None and self.resume.blocked(key):
                self.journal.unsafe_keys.add(key)  # an earlier attempt sent it: keep its entry
            after = scope.get("response")
            self.journal.finished(key, result.status, self._defined(step, scope),
                                  scope["steps"].get(step.id),
                                  iteration=iteration is not None and step.include is None,
                                  response=after if after is not before else None,
                                  skipped_reason=result.skipped_reason)
        self.emit("step_finished", result, iteration)

    # -- journal and resume ----------------------------------------------------------------
    @staticmethod
    def _defined(step: Step, scope: Scope) -> dict[str, Any]:
        names = [n for n, _ in step.extract]
        if step.include is not None:
            names.append(step.id)
        return {n: scope[n] for n in names if n in scope}

    def _restore(self, step: Step, scope: Scope, done: dict[str, Any],
                 result: StepResult) -> None:
        """Put back everything a later step can read of a step an earlier attempt finished:
        its values, its ``steps.<id>`` (a skipped step had none), the ``response`` it left."""
        for name, value in (done.get("defined") or {}).items():
            scope[name] = value
            if name != step.id:
                result.extracted[name] = value
            else:
                result.outputs = value
        response = restored_response(done["response"]) if done.get("response") else None
        if response is not None:
            scope["response"] = response
        entry = done.get("steps", {})  # an older journal always wrote one
        if entry is not None:
            entry = dict(entry)
            if done.get("steps_response") and response is not None:
                entry["response"] = response
            scope["steps"][step.id] = entry
        result.status = SKIPPED if done.get("status") == SKIPPED else PASSED
        result.skipped_reason = done.get("skipped_reason")
        result.resumed = True
        assert self.resume is not None
        self.resume.resumed_keys.add(result.key)

    def _resume_check(self, step: Step, scope: Scope, result: StepResult, outcome: str) -> None:
        assert self.resume is not None
        what = (f"its outcome is unknown ({self.resume.why(result.key)})"
                if outcome == "unknown" else "it succeeded but the step did not finish")
        check = step.resume_check
        if check is None:
            raise StepFailed(
                f"{step.target} is not safe to repeat and was sent before the run stopped; "
                f"{what}, so it is not sent again",
                hint="check on the vendor's side whether it took effect; a resume-check: on "
                "the step lets runner find out by itself; or start a new run")
        call_ = build_call(self, check, scope)
        response = send(self, check, result, call_)
        if response.error is not None:
            # only an answer that proves "not there" (a 4xx but 408, a vendor's own error:
            # the connector's not_applied rule) says the first request did not take effect;
            # a gateway's 502 says nothing, and sending the create again then could repeat it
            if self.client(call_.connector).outcome(call_, response) != NOT_APPLIED:
                raise StepFailed(
                    f"{step.target} is not safe to repeat and was sent before the run stopped; "
                    f"{what}, and its resume-check {check.target} was answered "
                    f"HTTP {response.status_code}, which does not tell: it is not sent again",
                    hint="run runner resume again once the vendor answers, or check on its "
                    "side whether the first request took effect")
            STEP_RUNNERS[step.kind](self, step, scope, result)  # it did not: send it now
            return
        scope["response"] = response
        apply_extract(self, check, response, scope, result)
        self.remember(step, scope, response=response)
        result.skipped_reason = f"resume-check: {check.target} found it done"

    def _when(self, step: Step, scope: Scope) -> bool:
        if isinstance(step.when, bool):
            return step.when
        return bool(evaluate(self, str(step.when), scope, "when"))

    def _loop(self, step: Step, scope: Scope, result: StepResult, key: str) -> None:
        items = render(self, step.loop, scope, "loop")
        if isinstance(items, dict):
            items = list(items.items())
        if not isinstance(items, list):
            raise StepFailed(f"loop: expected a list, got {type(items).__name__} {items!r}"[:200])
        self.emit("loop_started", result, len(items))

        def one(i: int, item: Any) -> tuple[StepResult, Scope]:
            local: Scope = ChainMap({step.loop_var: item,
                                     "loop": {"index": i, "index1": i + 1, "length": len(items)}},
                                    scope)
            if step.when is not None and not self._when(step, local):
                r = StepResult(step.id, f"{step.label}[{i}]", step.kind, step.target,
                               key=f"{key}[{i}]", trail=f"{result.trail}[{i}]")
                r.status, r.skipped_reason = SKIPPED, f"when: {step.when}"
                return r, local
            r = self.run_step(step, local, f"{key}[{i}]", iteration=i,
                              trail=f"{result.trail}[{i}]")
            r.label = f"{step.label}[{i}]"
            return r, local

        if step.concurrency > 1 and len(items) > 1:
            with ThreadPoolExecutor(max_workers=min(step.concurrency, len(items))) as pool:
                outcomes = list(pool.map(lambda p: one(*p), enumerate(items)))
        else:
            outcomes = []
            for i, item in enumerate(items):
                outcomes.append(one(i, item))
                if outcomes[-1][0].status in (FAILED, ERRORED):
                    break
        result.iterations = [r for r, _ in outcomes]
        names = [n for n, _ in step.extract] + ([step.id] if step.include is not None else [])
        for name in names:
            values = [local.maps[0].get(name) for r, local in outcomes  # type: ignore[attr-defined]
                      if r.status == PASSED]
            scope[name] = values
            result.extracted[name] = values
        scope["steps"][step.id] = {"iterations": [r.status for r in result.iterations]}
        failed = [r for r in result.iterations if r.status in (FAILED, ERRORED)]
        if failed:
            raise StepFailed(f"{len(failed)} of {len(items)} iterations failed; first: "
                             f"{failed[0].label}: {failed[0].error}", hint=failed[0].hint)

    def run_nested(self, sub: Playbook, given: Mapping[str, Any], parent: StepResult,
                   secret: frozenset[str] = frozenset()) -> Any:
        """Run an included playbook; ``secret``: inputs given a value derived from a secret,
        secret in there too whatever the included playbook declares."""
        inputs = coerce_inputs(sub, given)
        register_secret_inputs(sub, inputs, self.redactor)
        scope: Scope = {"inputs": inputs, "steps": {}, "secrets": self.secrets,
                        SECRET_INPUTS: secret_inputs(sub) | secret}
        prefix, trail = parent.key + ">", parent.trail + " > "
        failure = self.run_steps(sub.steps, scope, parent.iterations, prefix=prefix, trail=trail)
        final = self.run_steps(sub.finally_steps, scope, parent.iterations, keep_going=True,
                               prefix=prefix, trail=trail)
        failure = failure or final
        if failure is not None:
            raise StepFailed(f"{sub.file}: {getattr(failure, 'step', '')}: {failure.message}",
                             hint=failure.hint)
        return render(self, dict(sub.outputs), scope, "outputs")


def setting_origin(env: Environment, ref: ConnectorRef, key: str) -> str:
    """Where a connector setting was set: the environment file's line, the playbook's, or the
    connector's default."""
    name = ref.alias if env.connectors.get(ref.alias) else ref.use  # as settings_for reads
    if key in (env.connectors.get(name) or {}) and env.doc is not None:
        return str(env.doc.loc(("connectors", name, key)))
    if key in ref.settings:
        return str(ref.location)
    return f"the default of connector {ref.use}"


class _SandboxSecrets(dict[str, str]):
    """In the sandbox every ``secrets.NAME`` is a random value made for this run (and redacted)."""

    def __init__(self, redactor: Redactor):
        super().__init__()
        self.redactor = redactor

    def __missing__(self, key: str) -> str:
        value = f"sandbox-{key}-{_secrets.token_hex(6)}"
        self.redactor.add(value)
        self[key] = value
        return value


# characters JSON (as json.dumps writes it) may have outside its strings
_OUTSIDE_STRINGS = frozenset('{}[],: \t\r\n0123456789-+.eEtruefalsn')


def _redacted_json(redactor: Redactor, data: Any) -> str:
    """``data`` as JSON with every secret masked, without walking a report of thousands of
    exchanges string by string when the JSON text can be masked as it is.

    JSON escapes character by character, so a string holding a secret holds, once dumped, a
    form of it the redactor knows. Masking the text is safe when each secret form has no quote
    or backslash (a match cannot cross a string's edge) and a character JSON never has outside
    strings (a match cannot lie outside one); a match over an escape sequence breaks it, which
    parsing the result catches. Anything else takes the walk over the data.
    """
    text = json.dumps(data, default=str)
    masked = redactor.redact(text)
    if masked == text:
        return text
    if all('"' not in f and "\\" not in f and not set(f) <= _OUTSIDE_STRINGS
           for f in redactor.values):
        try:
            json.loads(masked)
            return masked
        except ValueError:
            pass
    return json.dumps(redactor.redact_data(data), ensure_ascii=False, default=str)


def execute(playbook: Playbook, env: Environment, inputs: Mapping[str, Any], *,
            listeners: list[Listener] | None = None, redactor: Redactor | None = None,
            run_id: str | None = None, sandbox: Sandbox | None = None,
            store: Store | None = None, resume: ResumeState | None = None,
            dedup_key: str | None = None, cancel: threading.Event | None = None,
            remap: bool = False, worker: bool = False, batch_id: str | None = None,
            batch_row: int | None = None) -> RunResult:
    """Run a playbook to the end; never raises for a step failure (see ``RunResult.status``).

    With a sandbox environment the simulators are started for this run and stopped after it,
    unless the caller passes its own ``sandbox`` (tests do, to look at the simulators).
    With a ``store`` the run is recorded and journaled step by step; with ``resume`` (the
    journal of an earlier attempt of ``run_id``) finished steps are restored, not run again.
    Setting ``cancel`` from another thread stops the run as Ctrl-C does: at its next step or
    wait, with status ``interrupted`` (resumable), after its ``finally`` steps.
    A resumed run whose playbook changed since its record was made is refused (recorded as
    failed, with what changed) unless ``remap`` (:func:`runner.fingerprint.check`; ``worker``:
    the message is for a worker whose checkout differs). ``batch_id``/``batch_row``: the batch
    this run is a row of (``runner run --inputs-from``).
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
            if not store.create_run(run.run_id, playbook.name,
                                    str(Path(playbook.file).resolve()), where,
                                    run.inputs, dedup_key=dedup_key, fingerprint=made,
                                    batch_id=batch_id, batch_row=batch_row):
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
        sandbox = Sandbox(env.simulators)
    rt = Runtime(env, redactor, listeners, sandbox, journal, resume, cancel)
    scope: Scope = {"inputs": values, "steps": {}, "secrets": rt.secrets,
                    "run": {"id": run.run_id, "environment": env.name},
                    SECRET_INPUTS: secret_inputs(playbook)}
    started = time.perf_counter()
    failure: RunnerError | None = None
    completed = False  # the engine reached the end: only such a run may pass
    try:
        try:
            rt.emit("run_started", run)
            rt.declare(playbook)
            failure = rt.run_steps(playbook.steps, scope, run.steps)
        except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (runner.cli turns it into one)
            rt.cancel.set()
            failure = Interrupted(f"interrupted by {_signal(e)}")
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
            final = Interrupted(f"interrupted by {_signal(e)} during the finally steps",
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
            run.outputs = redactor.redact_data(render(rt, dict(playbook.outputs), scope,
                                                      "outputs"))
        completed = True
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
        elif failure is None and not completed:
            failure = InternalError("the run stopped before its end")
        if failure is not None:
            run.status = INTERRUPTED if isinstance(failure, Interrupted) else \
                ERRORED if isinstance(failure, InternalError) else FAILED
            run.error = redactor.redact(failure.message)
            run.hint = redactor.redact(failure.hint) if failure.hint else None
            run.failed_step = getattr(failure, "step", None) or None
        if store is not None:
            _record(rt, store, run)
    run.traceback = rt.crash_traceback or None
    rt.emit("run_finished", run)
    return run


def _signal(e: KeyboardInterrupt) -> str:
    return "SIGTERM" if isinstance(e, Terminated) else "Ctrl-C"


def _record(rt: Runtime, store: Store, run: RunResult) -> None:
    """The run's end in the store; when the store cannot take it (a full disk), the run is
    errored and says what the store still shows."""
    try:
        store.update_run(run.run_id, status=run.status, finished=time.time(),
                         duration_ms=run.duration_ms, error=run.error, hint=run.hint,
                         failed_step=run.failed_step, outputs=run.outputs,
                         report=_redacted_json(rt.redactor, run.to_dict()))
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

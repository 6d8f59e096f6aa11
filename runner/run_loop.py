"""The step loop: ``Runtime`` runs steps in order, each with its ``when``, its ``loop``, its
journal entry and its events, and an included playbook inside its step.

A step's own work is its kind's (``runner.steps.KINDS``); a failure is the step's result, not
an exception, unless it ends the run (invalid input found late, a lost ownership). Resuming
puts back finished steps and checks sent ones (``runner.restore``).
"""

from __future__ import annotations

import contextvars
import time
from collections import ChainMap
from collections.abc import Mapping
from typing import Any

from runner import park, tracing
from runner.connectors.response import replaced
from runner.errors import (
    InternalError,
    Interrupted,
    InvalidInput,
    PlaybookError,
    RunnerError,
    StepFailed,
)
from runner.inputs import coerce_inputs, register_secret_inputs, secret_inputs
from runner.model import Playbook, Step
from runner.restore import defined, restore, resume_check
from runner.results import ERRORED, FAILED, PASSED, SKIPPED, Iterations, StepResult
from runner.run_state import STEP_KEY, RunState, signal_name
from runner.steps import KINDS
from runner.steps.common import evaluate, render
from runner.steps.runtime import Scope
from runner.templating import SECRET_INPUTS


class Runtime(RunState):
    """A run: its shared state (``RunState``) and the loop over its steps; it is what the
    step kinds get as their ``runner.steps.runtime.Runtime``."""

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
                first.where = result.where
                if not keep_going:
                    break
        return first

    def run_step(self, step: Step, scope: Scope, key: str, iteration: int | None = None,
                 trail: str = "") -> StepResult:
        result = StepResult(step.id, step.label, step.kind, step.target, step.name, key=key,
                            trail=trail or step.id)
        result.where = f"{step.location.file}:{step.location.line}"
        span = tracing.step_started(result, iteration, self.redactor)  # None: traces off
        try:
            self._run_step(step, scope, key, iteration, result)
        except RunnerError:
            raise  # invalid input (a missing secret), a lost ownership: the caller's to handle
        except Exception as e:  # in the journal or a listener, after the step's own work
            self.crashed(e, result)
        finally:
            tracing.step_finished(span, result)
        return result

    def _run_step(self, step: Step, scope: Scope, key: str, iteration: int | None,
                  result: StepResult) -> None:
        self.emit("step_started", result, iteration)
        done = self.resume.done(key) if self.resume is not None else None
        if done is not None:
            assert self.resume is not None
            restore(self.resume, step, scope, done, result)
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
                resume_check(self, self.resume, step, scope, result,
                             self.resume.blocked(key) or "")
            else:
                here = STEP_KEY.set(key)  # the key a wait of this step is journaled under
                try:
                    KINDS[step.kind].run(self, step, scope, result)
                finally:
                    STEP_KEY.reset(here)
        except StepFailed as e:
            result.status = FAILED
            result.error = self.redactor.redact(e.message)
            result.hint = self.redactor.redact(e.hint) if e.hint else None
        except Interrupted as e:  # stopped in a wait (a poll, a retry's backoff) or before
            result.status = FAILED
            result.error = e.message
        except KeyboardInterrupt as e:  # Ctrl-C or SIGTERM: the run stops in this step
            self.cancel.set()
            self.stopped_by = signal_name(e)
            result.status = FAILED
            result.error = f"interrupted by {self.stopped_by}"
        except InvalidInput as e:  # e.g. a missing secret, found when a connector starts
            result.status = FAILED
            result.error, result.hint = e.message, e.hint
            if isinstance(e, PlaybookError) and e.location is not None:
                raise  # it names its own place (a connector file's line)
            raise PlaybookError(e.message, location=step.location, path=step.label,
                                hint=e.hint) from None
        except RunnerError:
            raise  # a lost ownership (another worker took the run over): stop here
        except Exception as e:  # a bug, a hook that raised, a full disk: the run is errored
            self.crashed(e, result)
        finally:
            result.duration_ms = (time.perf_counter() - started) * 1000
        if step.undo and (result.status == PASSED or result.maybe_applied) and \
                (step.loop is None or iteration is not None):  # see runner.undo
            self.undos.push(self.journal, step, key, result.trail, scope, iteration)
        after = scope.get("response")
        replaced(before, after)  # kept for steps.<id>.response, decoded again if read
        if self.journal is not None:
            if iteration is not None and self.resume is not None and self.resume.blocked(key):
                self.journal.unsafe_keys.add(key)  # an earlier attempt sent it: keep its entry
            self.journal.finished(key, result.status, defined(step, scope),
                                  scope["steps"].get(step.id),
                                  iteration=iteration is not None and step.include is None,
                                  response=after if after is not before else None,
                                  skipped_reason=result.skipped_reason)
        self.emit("step_finished", result, iteration)

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

        names = [n for n, _ in step.extract] + ([step.id] if step.include is not None else [])

        def one(i: int, item: Any) -> tuple[StepResult, dict[str, Any]]:
            """Run iteration ``i``; its result and the values it defined. Its scope (with its
            answer, body and all) goes when it ends: 10,000 iterations keep no answers."""
            local: Scope = ChainMap({step.loop_var: item,
                                     "loop": {"index": i, "index1": i + 1, "length": len(items)}},
                                    scope)
            if step.when is not None and not self._when(step, local):
                r = StepResult(step.id, f"{step.label}[{i}]", step.kind, step.target,
                               key=f"{key}[{i}]", trail=f"{result.trail}[{i}]")
                r.status, r.skipped_reason = SKIPPED, f"when: {step.when}"
                return r, {}
            r = self.run_step(step, local, f"{key}[{i}]", iteration=i,
                              trail=f"{result.trail}[{i}]")
            r.label = f"{step.label}[{i}]"
            own = local.maps[0]  # type: ignore[attr-defined]
            return r, {n: own.get(n) for n in names} if r.status == PASSED else {}

        kept = Iterations(len(items))
        values: dict[str, list[Any]] = {n: [] for n in names}
        if step.concurrency > 1 and len(items) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(step.concurrency, len(items))) as pool:
                # each iteration in the step's context: its trace span nests under the step's
                here = contextvars.copy_context()
                futures = [pool.submit(here.copy().run, one, i, item)
                           for i, item in enumerate(items)]
                for r, got in map(park.result, futures):  # on a hub: the others run meanwhile
                    kept.add(r)
                    for n in got:
                        values[n].append(got[n])
        else:
            for i, item in enumerate(items):
                r, got = one(i, item)
                kept.add(r)
                for n in got:
                    values[n].append(got[n])
                if r.status in (FAILED, ERRORED):
                    break
        result.iterations, result.omitted = kept.results, kept.omitted()
        for name in names:
            scope[name] = values[name]
            result.extracted[name] = values[name]
        scope["steps"][step.id] = {"iterations": kept.statuses}
        failed = kept.failed
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
        if failure is not None:  # its file:line, then its own (an include's: a chain down)
            raise StepFailed(f"{failure.where or sub.file}: {getattr(failure, 'step', '')}: "
                             f"{failure.message}", hint=failure.hint)
        return render(self, dict(sub.outputs), scope, "outputs")

"""What one run shares, apart from running its steps: ``RunState``.

The environment, one client per connector alias (one HTTP session, one token), the renderer
and the redactor, the secrets, the listeners, the journal, and a cancel event so Ctrl-C
interrupts a poll's wait at once; and the first internal error of the run.
``runner.run_loop.Runtime`` adds the step loop on top.
"""

from __future__ import annotations

import contextvars
import os
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from runner import park
from runner.connectors.client import ConnectorClient
from runner.connectors.sessions import NO_INPUTS, connect
from runner.environment import Environment
from runner.errors import InternalError, Interrupted, InvalidInput, Terminated
from runner.inputs import secret_inputs
from runner.journal import Journal, ResumeState
from runner.model import ConnectorRef, Playbook, Step
from runner.results import ERRORED, Listener, StepResult
from runner.secrets import Redactor
from runner.steps.runtime import Scope
from runner.templating import SECRET_INPUTS, Renderer
from runner.undo import UndoStack

STEP_KEY: contextvars.ContextVar[str] = contextvars.ContextVar("step_key", default="")
"""The journal key of the step running in this context (a run's greenlet or thread, a loop's
iteration)."""
JOURNALED = 5.0  # seconds: a wait this long or longer is journaled; a shorter one is not worth
# a write (a run resumed from it is at most that early; 5,000 runs: 35,000 writes less at 1 s)

if TYPE_CHECKING:
    from runner.sandbox import Sandbox


class Parked(BaseException):
    """A wait of a run on a worker long enough to give its slot back (``RunState.park_after``):
    the wait is journaled (``parked``), and the run unwinds to the engine, which records it
    ``parked`` until ``until`` (clock time); the worker hands it to the broker to be resumed
    then. A BaseException, so that no step's ``except Exception`` takes it for a failure."""

    def __init__(self, until: float) -> None:
        super().__init__(until)
        self.until = until


class RunState:
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
        self.setting_scope: Mapping[str, Any] = NO_INPUTS  # what setting templates read
        self.clients: dict[str, ConnectorClient] = {}
        self.cancel = cancel or threading.Event()  # set: stop at the next step or wait
        self._lock = threading.Lock()
        self.crash: InternalError | None = None  # the first internal error of the run
        self.crash_traceback = ""
        self.stopped_by = ""  # "Ctrl-C" or "SIGTERM", when one stopped a step
        self.undos = UndoStack()  # the steps with undo: that passed (runner.undo)
        self.secrets = self._load_secrets()
        self.park_after: float | None = None  # a worker's: a wait this long unwinds (Parked)
        self.home = threading.get_ident()  # only the run's own thread unwinds, not a loop's

    # -- connectors ------------------------------------------------------------------------
    def declare(self, playbook: Playbook, inputs: Mapping[str, Any] | None = None) -> None:
        """Take the connectors of ``playbook`` and its includes (the first declaration of an
        alias is the one used); outside the sandbox, build every client now. ``inputs``: the
        run's, which the running playbook's setting templates read (an included playbook's
        settings have none: the loader refuses them, its ``with:`` comes later)."""
        if inputs is not None:
            self.setting_scope = {"inputs": inputs, SECRET_INPUTS: secret_inputs(playbook)}
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
        if self.sandbox is None:  # settings checked before the first request (a sandbox's
            for alias in self.refs:  # are its simulators': complete, started when first used)
                self.client(alias)

    def client(self, alias: str) -> ConnectorClient:
        with self._lock:
            client = self.clients.get(alias)
            if client is None:
                client = self.clients[alias] = connect(self.refs[alias], self.env,
                                                       self.sandbox, self.redactor,
                                                       self.setting_scope)
            return client

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
        for listener in self.listeners:  # one written before an event was added lacks it
            method = getattr(listener, event, None)
            if method is not None:
                method(*args)

    def sleep(self, seconds: float, kept: Mapping[str, Any] | None = None) -> None:
        """Wait ``seconds``; parked (no thread held) when the run is on a hub (a batch's row);
        a wait of ``JOURNALED`` seconds or more is journaled with its wake time, which a
        resumed run keeps (:meth:`parked_until`). On a worker, a wait of ``park_after`` or
        more raises :class:`Parked` once journaled: the run is resumed at its wake time.
        ``kept``: journaled with the wait, what the step goes on from (:meth:`parked_kept`)."""
        key, parks = STEP_KEY.get(), self.parks(seconds)
        if self.journal is not None and key and (seconds >= JOURNALED or parks):
            until = time.time() + seconds
            self.journal.parked(key, until, kept)
            if parks:  # a worker's run gives its slot back: resumed from here at `until`
                raise Parked(until)
        if park.sleep(seconds, self.cancel):
            raise Interrupted("interrupted")

    def parks(self, seconds: float) -> bool:
        """Whether a wait of ``seconds`` gives the run's worker slot back (raises
        :class:`Parked` in :meth:`sleep`): on a worker, for a wait of ``park_after`` or more,
        in the run's own thread (not a loop's iteration thread), in a step."""
        return self.park_after is not None and seconds >= self.park_after and \
            self.journal is not None and bool(STEP_KEY.get()) and \
            threading.get_ident() == self.home

    def parked_until(self) -> float | None:
        """When the step running now was parked until, as an earlier attempt of this run
        journaled it (a resumed run); None if it was not parked."""
        key = STEP_KEY.get()
        return self.resume.parked.get(key) if self.resume is not None and key else None

    def parked_kept(self) -> Mapping[str, Any]:
        """What the step running now journaled with its last parked wait (``sleep(kept=)``),
        for a resumed run; empty if nothing."""
        key = STEP_KEY.get()
        return self.resume.kept.get(key, {}) if self.resume is not None and key else {}

    def crashed(self, e: Exception, result: StepResult | None = None) -> InternalError:
        """Record an exception nobody expected (a bug, a full disk): the step, if any, and so
        the run, end ``errored``; the first one is the run's, with its traceback."""
        where = "" if result is None else result.label if result.trail == result.step_id \
            else f"step '{result.trail}'"
        error = InternalError.of(e, step=where)
        error.where = result.where if result is not None else ""
        with self._lock:
            if self.crash is None:
                self.crash = error
                import traceback  # a crash only

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


def signal_name(e: KeyboardInterrupt) -> str:
    return "SIGTERM" if isinstance(e, Terminated) else "Ctrl-C"


class _SandboxSecrets(dict[str, str]):
    """In the sandbox every ``secrets.NAME`` is a random value made for this run (and redacted)."""

    def __init__(self, redactor: Redactor):
        super().__init__()
        self.redactor = redactor

    def __missing__(self, key: str) -> str:
        value = f"sandbox-{key}-{os.urandom(6).hex()}"
        self.redactor.add(value)
        self[key] = value
        return value

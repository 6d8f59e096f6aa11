"""The step journal a run writes as it goes, and what a resumed run learns from it.

Each step has a key that stays the same between attempts of one run: ``steps/2``,
``steps/3[1]`` (loop iteration 1), ``steps/4>steps/0`` (a step of an included playbook).

Written for each step, before the next one starts:
    sent       a request that is not safe to repeat is about to go out (before it does)
    answered   it came back; ``status`` is what the answer proves (runner.connectors.outcome):
               ``ok`` (applied), ``not-applied`` (a refusal the connector's ``not_applied``
               rule accepts as proof, or a connection refused before anything was sent), or
               ``unknown`` (a 5xx, a 408: a gateway may have answered after the vendor acted)
    finished   the step's status and the values it defined (extracted names, include outputs)

A loop iteration that sent nothing unsafe writes no ``finished`` entry of its own: the loop's
entry (written when the whole loop is done) restores it, and an interrupted loop re-runs its
safe iterations, which is safe by definition. An iteration that sent an unsafe request keeps its
own ``finished`` entry, so a resume never sends it again.

On resume, a finished step is not run again: its values are restored. A step that sent a
request that is not safe to repeat, and whose outcome is unknown (sent, never answered) or was
a success the step did not finish with, is not sent again blindly (only ``not-applied`` lets
it be sent again): the run stops and says so,
unless the step has a ``resume-check`` that tells whether the first request took effect.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from runner.connectors.outcome import APPLIED, NOT_APPLIED, UNKNOWN
from runner.secrets import Redactor
from runner.store import HEARTBEAT_EVERY, Store

DONE = ("passed", "skipped")


class Journal:
    def __init__(self, store: Store, run_id: str, redactor: Redactor) -> None:
        self.store = store
        self.run_id = run_id
        self.redactor = redactor
        self.unsafe_keys: set[str] = set()  # step keys that sent a request not safe to repeat
        self._last_beat = 0.0

    def sent(self, key: str, request: dict[str, Any]) -> None:
        self.unsafe_keys.add(key)
        self.store.write(self.run_id, key, "sent",
                         data=self.redactor.redact_data({"method": request.get("method"),
                                                         "url": request.get("url")}))

    def answered(self, key: str, outcome: str, error: str | None,
                 status: int | None = None) -> None:
        """The answer came back; ``outcome`` is what it proves (ok, not-applied, unknown)."""
        self.store.write(self.run_id, key, "answered", outcome,
                         {"error": self.redactor.redact(error or ""), "status": status})

    def finished(self, key: str, status: str, defined: dict[str, Any],
                 steps_entry: dict[str, Any], *, iteration: bool = False) -> None:
        if iteration and key not in self.unsafe_keys:
            return  # the loop's own entry covers it; a resume re-runs what was safe
        entry = {k: v for k, v in steps_entry.items() if k != "response"}
        self.store.write(self.run_id, key, "finished", status,
                         self.redactor.redact_data({"defined": defined, "steps": entry}))

    def heartbeat(self) -> None:
        """The run is alive (a poll between calls): written at most every few seconds."""
        now = time.monotonic()
        if now - self._last_beat >= HEARTBEAT_EVERY:
            self._last_beat = now
            self.store.heartbeat(self.run_id)


@dataclass
class ResumeState:
    """What the journal of an earlier attempt says about each step key."""

    finished: dict[str, dict[str, Any]] = field(default_factory=dict)
    unsafe_outcome: dict[str, str] = field(default_factory=dict)  # key -> unknown | ok
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> last answer seen
    resumed_keys: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, store: Store, run_id: str) -> ResumeState:
        state = cls()
        for e in store.entries(run_id):
            if e.event == "finished":
                if e.status in DONE:
                    state.finished[e.step_key] = e.data
                    state.unsafe_outcome.pop(e.step_key, None)
            elif e.event == "sent":
                state.unsafe_outcome[e.step_key] = UNKNOWN
                state.answers.pop(e.step_key, None)
            elif e.event == "answered":
                if e.status == NOT_APPLIED:  # proved not applied: sending it again is fine
                    state.unsafe_outcome.pop(e.step_key, None)
                    state.answers.pop(e.step_key, None)
                else:  # ok, unknown, or an older runner's "vendor-error" (any error: a 504
                    # too), which proves nothing
                    state.unsafe_outcome[e.step_key] = APPLIED if e.status == APPLIED \
                        else UNKNOWN
                    state.answers[e.step_key] = e.data
        return state

    def done(self, key: str) -> dict[str, Any] | None:
        return self.finished.get(key)

    def blocked(self, key: str) -> str | None:
        """Why the step at ``key`` must not be re-sent (``unknown`` or ``ok``), or None."""
        return self.unsafe_outcome.get(key)

    def why(self, key: str) -> str:
        """What the journal saw of the blocked request at ``key``, for the message."""
        answer = self.answers.get(key)
        if answer is None:
            return "no answer came back"
        status = answer.get("status")
        said = f"HTTP {status}" if status else "an error"
        if self.unsafe_outcome.get(key) == APPLIED:
            return f"it was answered {said}"
        return f"it was answered {said}, which does not prove it was not applied"

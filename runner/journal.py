"""The step journal a run writes as it goes, and what a resumed run learns from it.

Each step has a key that stays the same between attempts of one run: ``steps/2``,
``steps/3[1]`` (loop iteration 1), ``steps/4>steps/0`` (a step of an included playbook).

Written for each step, before the next one starts:
    sent       a request that is not safe to repeat is about to go out (before it does)
    answered   it came back; ``status`` is what the answer proves (runner.connectors.outcome):
               ``ok`` (applied), ``not-applied`` (a refusal the connector's ``not_applied``
               rule accepts as proof, or a connection refused before anything was sent), or
               ``unknown`` (a 5xx, a 408: a gateway may have answered after the vendor acted)
    finished   the step's status and everything a later step can read of it: the values it
               defined (extracted names, include outputs), its ``steps.<id>`` entry (none for a
               skipped step: a later ``steps.<id> is defined`` says false, as it did), and the
               answer it left in ``response`` (a call or a poll)
    undoable   a step with ``undo:`` passed: what its undo steps read (its extracted values,
               a loop's variable, its answer), written before its ``finished``
    undo       (key ``undo``) the undo began (``started``, with the failure that began it) or
               ended (``undone``, ``partly-undone``); the undo steps journal as steps do, under
               ``undo/<step key>/<n>`` (:mod:`runner.undo`)

A loop iteration that sent nothing unsafe writes no ``finished`` entry of its own: the loop's
entry (written when the whole loop is done) restores it, and an interrupted loop re-runs its
safe iterations, which is safe by definition. An iteration that sent an unsafe request keeps its
own ``finished`` entry, so a resume never sends it again.

On resume, a finished step is not run again: its values are restored, its status (passed or
skipped) too, and ``response`` is the answer the last restored call left, rebuilt from the
journal. A restored answer is the answer *as the journal keeps it*: redacted (a secret in it
reads as ``***``, so a later step that extracts a secret from an earlier answer gets the mask),
its body decoded as UTF-8 (bytes that are not become U+FFFD), and a body over
``MAX_KEPT_BODY`` bytes is not kept: the restored answer has an empty body, and says how long
the real one was (``response.dropped_bytes``). A step that sent a
request that is not safe to repeat, and whose outcome is unknown (sent, never answered) or was
a success the step did not finish with, is not sent again blindly (only ``not-applied`` lets
it be sent again): the run stops and says so,
unless the step has a ``resume-check`` that tells whether the first request took effect.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.connectors.outcome import APPLIED, NOT_APPLIED, UNKNOWN
from runner.connectors.response import Response
from runner.secrets import Redactor
from runner.store import HEARTBEAT_EVERY, Store

DONE = ("passed", "skipped")
MAX_KEPT_BODY = 1 << 20  # bytes of an answer's body the journal keeps for a resume to read


@dataclass
class RestoredResponse(Response):
    """An answer rebuilt from the journal (redacted as stored; see the module's notes)."""

    dropped_bytes: int = 0  # the real body's size when it was too large to keep, else 0


def response_record(response: Response) -> dict[str, Any]:
    """What the journal keeps of an answer (the journal redacts it before it is written)."""
    kept = len(response.content) <= MAX_KEPT_BODY
    return {"status": response.status_code, "headers": dict(response.headers),
            "url": response.url, "method": response.method, "decode": response.decode,
            "error": response.error, "attempts": response.attempts,
            "elapsed_ms": response.elapsed_ms,
            "body": response.text if kept else "", "dropped_bytes": 0 if kept else
            len(response.content),
            **({"pages": response.pages} if response.pages > 1 else {})}  # all: true


def restored_response(record: Mapping[str, Any]) -> RestoredResponse:
    return RestoredResponse(
        status_code=int(record["status"]), headers=dict(record.get("headers") or {}),
        content=str(record.get("body") or "").encode("utf-8"), url=record.get("url") or "",
        method=record.get("method") or "", elapsed_ms=float(record.get("elapsed_ms") or 0.0),
        decode=record.get("decode") or "auto", error=record.get("error"),
        attempts=int(record.get("attempts") or 1), pages=int(record.get("pages") or 1),
        dropped_bytes=int(record.get("dropped_bytes") or 0))


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
                 steps_entry: Mapping[str, Any] | None, *, iteration: bool = False,
                 response: Response | None = None, skipped_reason: str | None = None) -> None:
        """``steps_entry``: the step's ``steps.<id>`` (None when it made none: skipped, failed);
        ``response``: the answer the step left in ``response``, if it set one."""
        if iteration and key not in self.unsafe_keys:
            return  # the loop's own entry covers it; a resume re-runs what was safe
        data: dict[str, Any] = {"defined": defined, "steps": None}
        if steps_entry is not None:
            data["steps"] = {k: v for k, v in steps_entry.items() if k != "response"}
            own = steps_entry.get("response")
            if isinstance(own, Response):  # steps.<id>.response: the step's own answer
                data["steps_response"] = True
                response = response or own
        if response is not None:
            data["response"] = response_record(response)
        if skipped_reason:
            data["skipped_reason"] = skipped_reason
        self.store.write(self.run_id, key, "finished", status, self.redactor.redact_data(data))

    def undoable(self, key: str, trail: str, values: Mapping[str, Any],
                 response: Response | None) -> None:
        """A step with ``undo:`` passed; ``values``: the names its undo steps read."""
        data = {"values": dict(values), "trail": trail,
                "response": response_record(response) if response is not None else None}
        self.store.write(self.run_id, key, "undoable", data=self.redactor.redact_data(data))

    def undo(self, status: str, data: Mapping[str, Any] | None = None) -> None:
        """The undo ``started`` (``data``: the failure that began it) or ended."""
        self.store.write(self.run_id, "undo", "undo", status,
                         self.redactor.redact_data(dict(data or {})))

    def parked(self, key: str, until: float, kept: Mapping[str, Any] | None = None) -> None:
        """The step at ``key`` waits until ``until`` (clock time): a resumed run wakes it then.
        ``kept``: what the step goes on from then (a poll's start and attempts so far)."""
        data: dict[str, Any] = {"until": until}
        if kept:
            data["kept"] = dict(kept)
        self.store.write(self.run_id, key, "parked", data=data)

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
    unsafe_sent: set[str] = field(default_factory=set)  # keys that sent one, not proved undone
    resumed_keys: set[str] = field(default_factory=set)
    undoable: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> what undo reads
    undo: dict[str, Any] | None = None  # the undo began: the failure it began on (status...)
    undo_end: str | None = None  # the undo ended: undone | partly-undone
    undo_begun: bool = False  # ``undo`` is the journal's (not asked for by runner undo now)
    parked: dict[str, float] = field(default_factory=dict)  # key -> wake time of its last park
    kept: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> its last park's kept

    @classmethod
    def load(cls, store: Store, run_id: str) -> ResumeState:
        state = cls()
        for e in store.entries(run_id):
            if e.event == "undoable":
                state.undoable.pop(e.step_key, None)  # in the order they passed
                state.undoable[e.step_key] = e.data
            elif e.event == "undo":
                if e.status == "started":
                    state.undo, state.undo_end = dict(e.data or {}), None
                    state.undo_begun = True
                else:
                    state.undo_end = e.status
            elif e.event == "parked":
                state.parked[e.step_key] = float(e.data.get("until") or 0)
                state.kept[e.step_key] = dict(e.data.get("kept") or {})
            elif e.event == "finished":
                if e.status in DONE:
                    state.finished[e.step_key] = {**e.data, "status": e.status}
                    state.unsafe_outcome.pop(e.step_key, None)
            elif e.event == "sent":
                state.unsafe_sent.add(e.step_key)
                state.unsafe_outcome[e.step_key] = UNKNOWN
                state.answers.pop(e.step_key, None)
            elif e.event == "answered":
                if e.status == NOT_APPLIED:  # proved not applied: sending it again is fine
                    state.unsafe_sent.discard(e.step_key)
                    state.unsafe_outcome.pop(e.step_key, None)
                    state.answers.pop(e.step_key, None)
                else:  # ok, unknown, or an older runner's "vendor-error" (any error: a 504
                    # too), which proves nothing
                    state.unsafe_outcome[e.step_key] = APPLIED if e.status == APPLIED \
                        else UNKNOWN
                    state.answers[e.step_key] = e.data
        return state

    def remapped(self, translate: Callable[[str], str | None]) -> tuple[ResumeState, list[str]]:
        """This state with each key moved to ``translate(key)`` (the same step in an edited
        playbook); a key it maps to None is dropped (that step runs again), and listed in the
        second value when it sent a request not safe to repeat (it must not run again)."""
        out, stuck = ResumeState(undo=self.undo, undo_end=self.undo_end,
                                  undo_begun=self.undo_begun), set()
        for key, values in self.undoable.items():
            new = translate(key)
            if new is not None:
                out.undoable[new] = values
        for key in {*self.finished, *self.unsafe_outcome, *self.unsafe_sent}:
            new = translate(key)
            if new is None:
                if key in self.unsafe_sent or key in self.unsafe_outcome:
                    stuck.add(key)
                continue
            if key in self.finished:
                out.finished[new] = self.finished[key]
            if key in self.unsafe_outcome:
                out.unsafe_outcome[new] = self.unsafe_outcome[key]
            if key in self.answers:
                out.answers[new] = self.answers[key]
            if key in self.unsafe_sent:
                out.unsafe_sent.add(new)
        for key, until in self.parked.items():
            new = translate(key)
            if new is not None:
                out.parked[new] = until
                out.kept[new] = self.kept.get(key, {})
        return out, sorted(stuck)

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

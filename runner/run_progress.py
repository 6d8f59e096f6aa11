"""Where a run is before it has a report: its journal, step by step.

A run's report is recorded when the run ends; a run that waits for hours (parked between
polls, for a callback, for an approval) or was interrupted has none until then. Its journal
says what it did so far, entry by entry, under each step's key (``steps/2``, ``steps/3[1]``
for a loop iteration, ``steps/4>steps/0`` in an included playbook); the run's recorded
fingerprint names each key's step (its id and file:line), so this reads nothing but the
store's two rows, not the playbook file (which may have changed since). ``runner show`` and
``runner ui`` show it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_ITERATION = re.compile(r"\[\d+\]")


@dataclass
class Place:
    """A step key's last state in the journal: ``passed``, ``failed``, ``skipped`` (it
    finished), ``sent`` (an unsafe request went out, its answer not journaled yet),
    ``answered`` (``outcome``: what the answer proves), ``parked`` or ``waiting`` (until
    ``until``, clock time; ``waits_for``: a callback, an approval), ``undone`` /
    ``partly-undone`` / ``undoing`` (the ``undo`` key)."""

    key: str
    step: str  # the step's id (``include-id > id`` in an include), else its key
    where: str  # file:line, when the fingerprint has it
    state: str
    at: float
    until: float | None = None
    outcome: str | None = None
    waits_for: str | None = None


def so_far(fingerprint: Mapping[str, Any] | None, entries: Iterable[Any]) -> list[Place]:
    """Each step key of ``entries`` (the journal, oldest first: objects with ``step_key``,
    ``event``, ``status``, ``data``, ``at``) with its last state, in the order keys first
    appear."""
    steps = (fingerprint or {}).get("steps") or {}
    places: dict[str, Place] = {}
    for e in entries:
        state, extra = _state(e.event, e.status, e.data or {})
        if state is None:
            continue
        place = places.get(e.step_key)
        if place is None:
            known = steps.get(_ITERATION.sub("", e.step_key)) or {}
            iteration = "".join(_ITERATION.findall(e.step_key))
            name = known.get("trail") or known.get("id")
            step = f"{name}{iteration}" if name else e.step_key
            place = places[e.step_key] = Place(e.step_key, step, str(known.get("at") or ""),
                                               state, e.at)
        place.state, place.at = state, e.at
        place.until, place.outcome, place.waits_for = (extra.get("until"), extra.get("outcome"),
                                                        extra.get("waits_for"))
    return list(places.values())


def _state(event: str, status: str | None,
           data: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    if event == "finished":
        return status, {}
    if event == "sent":
        return "sent", {}
    if event == "answered":
        return "answered", {"outcome": status}
    if event == "parked":
        return "parked", {"until": data.get("until")}
    if event == "waiting":
        return "waiting", {"until": data.get("until"), "waits_for": data.get("for")}
    if event == "undo":
        return ("undoing" if status == "started" else status), {}
    return None, {}  # undoable, a callback's arrival, ...: no change of where the step is

"""Carrying a run's journal over to a changed playbook (``runner resume --remap``): from a
journal key of the old playbook to the same step's key in the new one, by id and content.

The journal is keyed by step position (``steps/2``, ``steps/2[1]>steps/0`` inside a loop's
iteration); the two fingerprints (:mod:`runner.fingerprint`) say where each step went, and
whether it is still the same step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_SEGMENT = re.compile(r"^([A-Za-z_]+/\d+)((?:\[\d+\])*)$")


def key_map(old: Mapping[str, Any], new: Mapping[str, Any]) -> Callable[[str], str | None]:
    """A function from a journal key of a run started from ``old`` to the same step's key in
    ``new``, or None when that step is not the same: each step on the way (an include, a
    loop) must keep its id and its own YAML, and the step itself its id and whole content."""
    new_by_trail = {s["trail"]: (k, s) for k, s in new["steps"].items()}
    old_steps = old.get("steps") or {}

    def translate(key: str) -> str | None:
        segments = key.split(">")
        struct: list[str] = []
        out: list[str] = []
        for depth, segment in enumerate(segments):
            m = _SEGMENT.match(segment)
            if m is None:
                return None
            struct.append(m.group(1))
            was = old_steps.get(">".join(struct))
            found = new_by_trail.get(was["trail"]) if was else None
            if was is None or found is None:
                return None
            new_key, now = found
            last = depth == len(segments) - 1
            if (now["hash"] != was["hash"]) if last else (now["own"] != was["own"]):
                return None
            out.append(new_key.split(">")[-1] + m.group(2))
        return ">".join(out)

    return translate


def structural(key: str) -> str:
    """A journal key without its loop iterations: ``steps/2[1]>steps/0`` -> ``steps/2>steps/0``."""
    return re.sub(r"\[\d+\]", "", key)

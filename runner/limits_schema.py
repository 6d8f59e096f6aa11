"""The ``limits:`` a connector file declares and an environment file may override: its JSON
Schema (below both: the connector schema and the environment schema embed it) and the rate's
spelling (``5``, ``5/s``, ``300/min``, ``1000/h``) read as requests per second.

What the limits do is :mod:`runner.connectors.limits` (the frozen :class:`Limits`) and
:mod:`runner.connectors.gates` (the buckets, slots, pauses and breakers of a process).
"""

from __future__ import annotations

import re
from typing import Any

RATE_TEXT = r"^\s*[0-9]+(\.[0-9]+)?\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$"
_PER = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0,
        "h": 3600.0, "hour": 3600.0}

BREAKER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "a circuit breaker: after `failures` calls in a row that got no answer or a "
    "5xx, calls fail at once (not sent) for `cooldown` seconds, then one trial call decides",
    "properties": {
        "failures": {"type": "integer", "minimum": 1,
                     "description": "consecutive transport failures or 5xx answers that open it"},
        "cooldown": {"type": "number", "exclusiveMinimum": 0,
                     "description": "seconds calls fail fast once it is open (default 30)"},
    },
}
LIMITS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "how hard runner may use this connector, shared by every run of a process "
    "(and by every worker through Redis): a rate, a burst, concurrent requests, per key",
    "properties": {
        "rate": {"anyOf": [{"type": "number", "exclusiveMinimum": 0},
                           {"type": "string", "pattern": RATE_TEXT}],
                 "description": "requests per second (5), or per unit: 5/s, 300/min, 1000/h"},
        "burst": {"type": "integer", "minimum": 1,
                  "description": "requests that may go at once before the rate applies "
                  "(default 1: evenly spaced)"},
        "concurrent": {"type": "integer", "minimum": 1,
                       "description": "requests in flight at most"},
        "per": {"type": "string",
                "description": "a template: one limit per value, e.g. '{{ operation }}' or "
                "'{{ settings.tenant }}' (it reads settings, operation, method, connector)"},
        "breaker": BREAKER_SCHEMA,
    },
}


def rate_per_second(value: Any) -> float | None:
    """``5`` or ``"300/min"`` as requests per second; None when there is no rate."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = re.match(RATE_TEXT, str(value))
    if match is None:
        raise ValueError(f"not a rate: {value!r}")
    count, unit = str(value).split("/")
    return float(count) / _PER[unit.strip()]

"""The playbook JSON Schema: the document's keys here, each step kind's keys from its module.

``BASE`` (``base()`` once a kind is added to the table) is what ``runner validate`` checks
with: connector-independent, operations are checked in code against the installed connectors,
aliases included. ``runner.editor_schema`` adds the connectors' operations for editors.
"""

from __future__ import annotations

from typing import Any

from runner.notify_targets import NOTIFY_SCHEMA
from runner.schema_atoms import IDENT
from runner.steps import KINDS

# the keys every step may have, whatever its kind; each kind brings the schema of its own
COMMON: dict[str, Any] = {
    "id": {"type": "string", "pattern": IDENT,
           "description": "a name for the step, used in reports and steps.<id>"},
    "name": {"type": "string", "description": "a human description shown in reports"},
    "when": {"type": ["string", "boolean"], "description": "run the step only if this is true"},
    "loop": {"type": ["string", "array"], "description": "run the step for each item"},
    "loop_var": {"type": "string", "pattern": IDENT, "description": "default: item"},
    "concurrency": {"type": "integer", "minimum": 1, "maximum": 256},
    "retry": {
        "description": "override the connector's retry policy; false: never retry this call",
        "anyOf": [{"type": "boolean"}, {
            "type": "object", "additionalProperties": False,
            "properties": {
                "attempts": {"type": "integer", "minimum": 1, "maximum": 20},
                "backoff": {"type": "number", "minimum": 0},
                "max_delay": {"type": "number", "minimum": 0},
                "statuses": {"type": "array", "items": {"type": "integer"}},
                "unsafe": {"type": "boolean",
                           "description": "retry even a call that is not safe to repeat"},
            }}],
    },
}


def step_properties() -> dict[str, Any]:
    """Every step key's schema: the common ones, then each kind's in the table's order (a key
    two kinds use, ``with``, keeps the first one's). Read when a schema is built, so a kind
    added to the table (a test's) is in it."""
    out = dict(COMMON)
    for kind in KINDS.values():
        for key, schema in kind.SCHEMA.items():
            out.setdefault(key, schema)
    return out


STEP_PROPERTIES = step_properties()

INPUT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "type": {"enum": ["string", "integer", "number", "boolean", "array", "object"]},
        "default": {},
        "required": {"type": "boolean"},
        "secret": {"type": "boolean"},
        "description": {"type": "string"},
    },
}


def _assemble(step_props: dict[str, Any]) -> dict[str, Any]:
    step = {"type": "object", "additionalProperties": False, "properties": step_props}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "runner playbook",
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "steps"],
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "inputs": {"type": "object", "propertyNames": {"pattern": IDENT},
                       "additionalProperties": INPUT},
            "connectors": {
                "type": "object",
                "propertyNames": {"pattern": IDENT},
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": False,
                    "anyOf": [{"required": ["use"]}, {"required": ["file"]}],
                    "properties": {"use": {"type": "string"}, "file": {"type": "string"},
                                   "settings": {"type": "object"}},
                },
            },
            "steps": {"type": "array", "minItems": 1, "items": step},
            "finally": {"type": "array", "items": step},
            "outputs": {"type": "object", "propertyNames": {"pattern": IDENT}},
            "notify": NOTIFY_SCHEMA,
        },
    }


BASE: dict[str, Any] = _assemble(STEP_PROPERTIES)
_BUILT = {tuple(KINDS.items()): BASE}


def base() -> dict[str, Any]:
    """What ``runner validate`` checks with, for the step table as it is now: BASE, unless a
    kind was added (one schema per table, so its validator is built once)."""
    key = tuple(KINDS.items())
    schema = _BUILT.get(key)
    if schema is None:
        schema = _BUILT[key] = _assemble(step_properties())
    return schema

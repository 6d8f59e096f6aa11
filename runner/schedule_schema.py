"""The schedule file's JSON Schema (``schemas/schedules.schema.json``, ``runner schema``).

A room of its own: ``runner schema`` writes it, and the schedule file's loader checks a file
against it, and neither needs the other's work (cron, time zones, playbooks).
"""

from __future__ import annotations

from typing import Any

from runner.notify_targets import NOTIFY_SCHEMA

NAME = "^[A-Za-z0-9][A-Za-z0-9_.-]*$"
OVERLAP = ("skip", "queue", "allow")
CATCH_UP = ("none", "latest", "all")

_SECRET_REF = {
    "type": "object", "additionalProperties": False, "required": ["secret"],
    "properties": {"secret": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                              "description": "an environment variable of the process "
                              "that runs the playbook"}},
}
SCHEDULE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "playbook", "cron"],
    "properties": {
        "name": {"type": "string", "pattern": NAME,
                 "description": "unique in the run store: letters, digits, - _ ."},
        "description": {"type": "string"},
        "playbook": {"type": "string", "minLength": 1,
                     "description": "the playbook's path, relative to the schedule file"},
        "cron": {"type": "string", "minLength": 1,
                 "description": "minute hour day month weekday; 6 fields put seconds first "
                 "(*/10 * * * * *); or @hourly, @daily, @weekly, @monthly"},
        "timezone": {"type": "string", "default": "UTC",
                     "description": "an IANA zone, e.g. Europe/Lisbon"},
        "environment": {"type": "string", "default": "sandbox",
                        "description": "sandbox, a name under environments/, or a file "
                        "relative to the schedule file"},
        "inputs": {"type": "object", "description": "the playbook's inputs"},
        "overlap": {"enum": list(OVERLAP), "default": "skip",
                    "description": "when the previous run is still going: skip this fire "
                    "time, queue it, or allow both at once"},
        "catch_up": {"enum": list(CATCH_UP), "default": "latest",
                     "description": "fire times missed while no scheduler ran: none, only "
                     "the latest, or all of them"},
        "jitter": {
            "description": "start each fire up to this late (seconds, or 30s, 5m)",
            "anyOf": [{"type": "number", "minimum": 0},
                      {"type": "string", "pattern": r"^\d+(\.\d+)?\s*(ms|s|m|h)$"}],
        },
        "enabled": {"type": "boolean", "default": True},
        "notify": NOTIFY_SCHEMA,
        "on_failure": {
            "description": "deprecated: use notify: (apprise URLs, on failure or success)",
            "type": "object", "additionalProperties": False, "required": ["webhook"],
            "properties": {"webhook": {
                "description": "deprecated (notify: replaces it): POST runner's own JSON "
                "summary here when a run fails: a URL, or {secret: ENV_VAR} holding one",
                "anyOf": [{"type": "string", "pattern": "^https?://"}, _SECRET_REF]}},
        },
    },
}
SCHEDULES_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "runner schedules",
    "description": "Playbooks that `runner scheduler` runs on cron schedules",
    "type": "object",
    "additionalProperties": False,
    "required": ["schedules"],
    "properties": {"schedules": {"type": "array", "items": SCHEDULE_SCHEMA}},
}

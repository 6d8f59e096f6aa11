"""`assert`: expressions that must hold; a failure shows the expression and its values.

The smallest kind: the loader reads ``assert:`` itself (it may ride on a call too), so this
kind has no data of its own to build; running it checks the assertions, and the plan's line
for each assertion is printed for every step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from runner.loader import Path_
from runner.model import Step
from runner.schema_atoms import EXPR
from runner.steps.answers import apply_asserts
from runner.steps.kind import Builder, Planner
from runner.steps.runtime import Runtime, Scope

if TYPE_CHECKING:  # a type only: loading a playbook needs no results
    from runner.results import StepResult

KEY = "assert"
YIELDS_TO = ("call", "wait-for")  # on a call (a poll, a wait-for) it checks its answer
ASSERTION: dict[str, Any] = {
    "anyOf": [
        EXPR,
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["that"],
            "properties": {"that": EXPR, "message": {"type": "string"}},
        },
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["schema"],
            "properties": {
                "schema": {
                    "description": "the answer's JSON body must be valid: a JSON Schema file "
                    "(relative to the playbook), or an OpenAPI document's schema for the "
                    "operation's answer of that status",
                    "anyOf": [
                        {"type": "string", "minLength": 1},
                        {"type": "object", "additionalProperties": False,
                         "required": ["openapi", "operation"],
                         "properties": {"openapi": {"type": "string", "minLength": 1},
                                        "operation": {"type": "string", "minLength": 1}}},
                    ],
                },
                "message": {"type": "string"},
            },
        },
    ]
}
SCHEMA: dict[str, Any] = {
    "assert": {"anyOf": [{"type": "array", "minItems": 1, "items": ASSERTION}, ASSERTION]},
}
KEYS = frozenset(SCHEMA)


def build(b: Builder, raw: Mapping[str, Any], path: Path_) -> None:
    return None


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    apply_asserts(rt, step, scope, result)
    rt.remember(step, scope)


def plan(p: Planner, step: Step, scope: Scope, pad: str) -> None:
    return None

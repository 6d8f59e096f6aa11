"""`extract` on its own: extract from the last answer, after e.g. a `when`-guarded call.

The loader reads ``extract:`` itself (it rides on calls too), so this kind builds no data of
its own; the plan prints each extraction for every step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from runner.errors import StepFailed
from runner.loader import Path_
from runner.model import Step
from runner.schema_atoms import IDENT
from runner.steps.answers import apply_asserts, apply_extract
from runner.steps.kind import Builder, Planner
from runner.steps.runtime import Runtime, Scope

if TYPE_CHECKING:  # a type only: loading a playbook needs no results
    from runner.results import StepResult

KEY = "extract"
YIELDS_TO = ("call", "wait-for")  # on a call (or a poll, a wait-for) it reads its answer
EXTRACTION: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "description": "a JSONPath ($...) or an XPath (/...)"},
        {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "jsonpath": {"type": "string"},
                "xpath": {"type": "string"},
                "regex": {"type": "string"},
                "group": {"type": ["integer", "string"]},
                "namespaces": {
                    "type": "object",
                    "description": "xpath: the namespace prefixes it uses, e.g. {D: 'DAV:'}",
                    "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_.-]*$"},
                    "additionalProperties": {"type": "string", "minLength": 1},
                },
                "header": {"type": "string"},
                "status": {"const": True},
                "all": {"type": "boolean", "description": "keep every match as a list"},
                "default": {"description": "the value when nothing matches"},
            },
        },
    ]
}
SCHEMA: dict[str, Any] = {
    "extract": {"type": "object", "propertyNames": {"pattern": IDENT},
                "additionalProperties": EXTRACTION},
}
KEYS = frozenset(SCHEMA)


def build(b: Builder, raw: Mapping[str, Any], path: Path_) -> None:
    return None


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    response = scope.get("response")
    if response is None:
        raise StepFailed("there is no answer to extract from yet",
                         hint="put extract: on a call step, or after one")
    apply_extract(rt, step, response, scope, result)
    apply_asserts(rt, step, scope, result)
    rt.remember(step, scope)


def plan(p: Planner, step: Step, scope: Scope, pad: str) -> None:
    return None

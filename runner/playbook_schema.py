"""The playbook JSON Schema, written once here.

``BASE`` is what ``runner validate`` checks with (connector-independent: operations are checked
in code against the installed connectors, aliases included). ``for_editors()`` adds, for each
installed connector, the operation names and each operation's parameters, which is what
``schemas/playbook.schema.json`` holds for editor completion; ``runner schema`` writes it.
"""

from __future__ import annotations

from typing import Any

from runner.steps import STEP_KEYS

IDENT = "^[A-Za-z_][A-Za-z0-9_]*$"
DURATION = {
    "description": "seconds, or a number with a unit: 500ms, 5s, 15m, 1h",
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\d+(\.\d+)?\s*(ms|s|m|h)$"},
    ],
}
EXPR = {"type": "string",
        "description": "a bare Jinja expression, e.g. response.status_code == 200"}
EXTRACTION = {
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
ASSERTION = {
    "anyOf": [
        EXPR,
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["that"],
            "properties": {"that": EXPR, "message": {"type": "string"}},
        },
    ]
}

STEP_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "pattern": IDENT,
           "description": "a name for the step, used in reports and steps.<id>"},
    "name": {"type": "string", "description": "a human description shown in reports"},
    "when": {"type": ["string", "boolean"], "description": "run the step only if this is true"},
    "loop": {"type": ["string", "array"], "description": "run the step for each item"},
    "loop_var": {"type": "string", "pattern": IDENT, "description": "default: item"},
    "concurrency": {"type": "integer", "minimum": 1, "maximum": 256},
    "auth": {"type": "string", "description": "authenticate a connector now"},
    "call": {"type": "string",
             "description": "connector.operation, or a connector name with method and path"},
    "with": {"type": "object", "description": "operation parameters, or include inputs"},
    "method": {"type": "string", "pattern": "^[A-Za-z]+$",
               "description": "raw call: any verb, LOOKUP included"},
    "path": {"type": "string", "description": "raw call: path under the connector's base URL"},
    "query": {"type": "object"},
    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
    "json": {"description": "raw call: JSON body (any JSON value, a bare string included)"},
    "form": {"type": "object"},
    "safe": {"type": "boolean", "description": "raw call: safe to repeat (default: by verb)"},
    "allow-error": {"type": "boolean",
                    "description": "a vendor error does not fail the step; read response.error"},
    "extract": {"type": "object", "propertyNames": {"pattern": IDENT},
                "additionalProperties": EXTRACTION},
    "assert": {"anyOf": [{"type": "array", "minItems": 1, "items": ASSERTION}, ASSERTION]},
    "poll-until": EXPR,
    "fail-if": {"anyOf": [EXPR, {"type": "array", "items": EXPR}]},
    "every": DURATION,
    "timeout": DURATION,
    "max-interval": DURATION,
    "max-attempts": {"type": "integer", "minimum": 1},
    "backoff": {"type": "number", "minimum": 1},
    "include": {"type": "string", "description": "another playbook, relative to this file"},
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
    "resume-check": {
        "type": "object", "additionalProperties": False, "required": ["call"],
        "description": "on resume, a call whose success means this step's request took effect",
        "properties": {"call": {"type": "string"}, "with": {"type": "object"},
                       "extract": {"type": "object"}},
    },
}
assert set(STEP_KEYS) <= set(STEP_PROPERTIES), "every step kind needs a schema entry"

STEP = {"type": "object", "additionalProperties": False, "properties": STEP_PROPERTIES}

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

BASE: dict[str, Any] = {
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
                "required": ["use"],
                "properties": {"use": {"type": "string"}, "settings": {"type": "object"}},
            },
        },
        "steps": {"type": "array", "minItems": 1, "items": STEP},
        "finally": {"type": "array", "items": STEP},
        "outputs": {"type": "object", "propertyNames": {"pattern": IDENT}},
    },
}


def for_editors(specs: list[Any]) -> dict[str, Any]:
    """BASE plus every installed connector's operations and their parameters."""
    import copy

    schema = copy.deepcopy(BASE)
    step = schema["properties"]["steps"]["items"]
    ops = sorted(f"{s.name}.{o}" for s in specs for o in s.operations)
    step["properties"]["call"] = {
        "description": STEP_PROPERTIES["call"]["description"],
        "anyOf": [{"enum": ops}, {"type": "string", "pattern": IDENT + r"(\.[A-Za-z0-9_]+)?$"}],
    }
    rules: list[dict[str, Any]] = []
    for s in specs:
        # `call: <connector>.x` where the alias is the connector's own name: x must exist
        rules.append({
            "if": {"required": ["call"],
                   "properties": {"call": {"pattern": f"^{s.name}\\."}}},
            "then": {"properties": {"call": {"enum": [f"{s.name}.{o}" for o in s.operations]}}},
        })
    for s in specs:
        for name, op in s.operations.items():
            props = {p.name: _param_schema(p) for p in op.params.values()}
            required = [p.name for p in op.params.values() if p.required]
            with_schema: dict[str, Any] = {"type": "object", "additionalProperties": False,
                                           "properties": props}
            if required:
                with_schema["required"] = required
            rules.append({
                "if": {"required": ["call"], "properties": {"call": {"const": f"{s.name}.{name}"}}},
                "then": {"properties": {"with": with_schema}},
            })
    step["allOf"] = rules
    schema["$defs"] = {"step": step}
    schema["properties"]["steps"]["items"] = {"$ref": "#/$defs/step"}
    schema["properties"]["finally"]["items"] = {"$ref": "#/$defs/step"}
    return schema


TEMPLATE = {"type": "string", "pattern": r"\{\{|\{%",
            "description": "a template, rendered at run time"}


def _param_schema(p: Any) -> dict[str, Any]:
    """A parameter's schema for editors; any parameter may also be a template string."""
    out: dict[str, Any] = {}
    if p.type not in ("any", "string"):
        out["anyOf"] = [{"type": p.type}, TEMPLATE]
    elif p.type == "string":
        out["type"] = "string"
    if p.enum:
        out.setdefault("anyOf", [{"enum": list(p.enum)}, TEMPLATE])
    if p.description:
        out["description"] = p.description
    if p.secret:
        out["description"] = (p.description + " " if p.description else "") + \
            "(secret: pass {{ secrets.NAME }}, never a literal)"
    return out

"""The playbook schema editors get (``schemas/playbook.schema.json``, ``runner schema``).

``runner.playbook_schema.base()`` plus, for each installed connector, its operation names
(for completion) and each operation's parameters: an unknown operation or parameter, or a
literal of the wrong type, is flagged as it is typed.
"""

from __future__ import annotations

import copy
from typing import Any

from runner.playbook_schema import base
from runner.schema_atoms import IDENT


def for_editors(specs: list[Any]) -> dict[str, Any]:
    """BASE plus every installed connector's operations and their parameters."""
    schema = copy.deepcopy(base())
    step = schema["properties"]["steps"]["items"]
    ops = sorted(f"{s.name}.{o}" for s in specs for o in s.operations)
    step["properties"]["call"] = {
        "description": step["properties"]["call"]["description"],
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

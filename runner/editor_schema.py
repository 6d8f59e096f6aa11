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
    """BASE plus every installed connector's operations and their parameters.

    A schema cannot see a playbook's aliases from inside a step, so ``call`` takes any
    ``name.operation`` (the enum is there for completion), and the operations of connector N
    are enforced at the document's level, on the steps of a playbook that does not make N an
    alias of something else (``N: {use: other}`` or ``N: {file: ...}``): ``call: ndd.x``
    through ``ndd: {use: nddprint}`` is never flagged (``runner lsp`` checks those). One rule
    per connector, its operations' ``with:`` rules nested in it, so a step is matched against
    the operations of its own connector only.
    """
    schema = copy.deepcopy(base())
    step = schema["properties"]["steps"]["items"]
    ops = sorted(f"{s.name}.{o}" for s in specs for o in s.operations)
    step["properties"]["call"] = {
        "description": step["properties"]["call"]["description"],
        "anyOf": [{"enum": ops}, {"type": "string", "pattern": CALL}],
    }
    defs: dict[str, Any] = {"step": step}
    rules: list[dict[str, Any]] = []
    for s in specs:
        defs[f"calls-{s.name}"] = _connector_rule(s)
        calls = {"items": {"$ref": f"#/$defs/calls-{s.name}"}}
        rules.append({"if": {"not": _shadowed(s.name)},
                      "then": {"properties": {"steps": calls, "finally": calls}}})
    schema["allOf"] = rules
    schema["$defs"] = defs
    schema["properties"]["steps"]["items"] = {"$ref": "#/$defs/step"}
    schema["properties"]["finally"]["items"] = {"$ref": "#/$defs/step"}
    return schema


# `alias.operation`, or an alias alone (a raw call with method: and path:)
CALL = IDENT.removesuffix("$") + r"(\.[A-Za-z0-9_]+)?$"


def _shadowed(name: str) -> dict[str, Any]:
    """The playbook declares an alias ``name`` that is not the connector ``name``."""
    return {"required": ["connectors"], "properties": {"connectors": {
        "required": [name],
        "properties": {name: {"not": {"required": ["use"], "properties": {"use": {"const": name}},
                                      "not": {"required": ["file"]}}}}}}}


def _connector_rule(s: Any) -> dict[str, Any]:
    """On a step whose call is ``<s.name>.x``: x is one of its operations, and each
    operation's ``with:`` takes its parameters."""
    per_op: list[dict[str, Any]] = []
    for name, op in s.operations.items():
        props = {p.name: _param_schema(p) for p in op.params.values()}
        required = [p.name for p in op.params.values() if p.required and not p.has_default]
        with_schema: dict[str, Any] = {"type": "object", "additionalProperties": False,
                                       "properties": props}
        if required:
            with_schema["required"] = required
        per_op.append({
            "if": {"required": ["call"], "properties": {"call": {"const": f"{s.name}.{name}"}}},
            "then": {"properties": {"with": with_schema}},
        })
    return {
        "if": {"required": ["call"], "properties": {"call": {"pattern": f"^{s.name}\\."}}},
        "then": {"properties": {"call": {"enum": [f"{s.name}.{o}" for o in s.operations]}},
                 "allOf": per_op},
    }


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

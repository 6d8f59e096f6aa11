"""A call as the playbook writes it: its keys' schema, and the ``CallSpec`` built from them.

The ``call`` and ``poll-until`` kinds both carry a call: ``connector.operation`` with its
parameters under ``with:`` (checked against the connector's operation), or a connector with a
raw ``method`` and ``path``; either may say which statuses its answer must have (``status:``).
A raw call's text, file and multipart bodies, and where any call's answer goes
(``save-to``, ``follow-redirects``), are checked in :mod:`runner.steps.call_bodies`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from runner.loader import Path_
from runner.steps.call_bodies import BODY_SCHEMA, check_bodies
from runner.steps.call_spec import CallSpec
from runner.steps.kind import Builder
from runner.template_compile import is_template

RAW_KEYS = ("method", "path", "query", "headers", "json", "form", "safe",
            "body", "multipart")
STATUS: dict[str, Any] = {"type": "integer", "minimum": 100, "maximum": 599}

CALL_SCHEMA: dict[str, Any] = {
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
                    "description": "a vendor error or a transport error (status 0) does not "
                    "fail the step; read response.error"},
    "status": {"anyOf": [STATUS, {"type": "array", "minItems": 1, "items": STATUS}],
               "description": "the HTTP status (100-599) the answer must have, or a list "
               "of them: status: 404, status: [200, 201]"},
    **BODY_SCHEMA,
}


def build_call_spec(b: Builder, raw: Mapping[str, Any], path: Path_) -> CallSpec:
    target: str = raw["call"]
    alias, _, op_name = target.partition(".")
    spec = b.alias(alias, path + ("call",))
    params = raw.get("with") or {}
    allow_error = bool(raw.get("allow-error", False))
    answer = _answer_keys(b, raw, path)
    status = expected_statuses(b, raw, path)
    if op_name:
        op = spec.operation(op_name)
        if op is None:
            close = difflib.get_close_matches(op_name, list(spec.operations), n=1)
            hint = (f"did you mean '{close[0]}'? " if close else "") + \
                f"known operations of {spec.name}: {', '.join(spec.operations)}"
            raise b.fail(path + ("call",), f"unknown operation '{target}'", hint)
        for key in RAW_KEYS:
            if key in raw:
                raise b.fail(path + (key,), f"'{key}' is for raw calls; "
                             f"{target} is an operation", "pass parameters under with:")
        for name, value in params.items():
            p = op.params.get(name)
            where = path + ("with", name)
            if p is None:
                raise b.fail(where, f"{target} has no parameter '{name}'",
                             f"its parameters: {', '.join(op.params) or 'none'}")
            if isinstance(value, str) and is_template(value):
                continue
            if not p.accepts(value):
                raise b.fail(where, f"parameter '{name}' must be a {p.type}, got "
                             f"{type(value).__name__} {value!r}")
            if p.secret and value not in ("", None):
                raise b.fail(where, f"'{name}' is a secret and must not be written in "
                             "a playbook", "use {{ secrets.NAME }} and define NAME in the "
                             "environment file")
        missing = [n for n, p in op.params.items()
                   if p.required and not p.has_default and n not in params]
        if missing:
            raise b.fail(path + ("with",) if "with" in raw else path + ("call",),
                         f"{target} needs parameter '{missing[0]}'",
                         f"add it under with: ({missing[0]}: ...)")
        b.check_templates(params, path + ("with",))
        return CallSpec(alias, op_name, params, allow_error=allow_error, status=status,
                        **answer)
    if "with" in raw:
        raise b.fail(path + ("with",), f"'with' passes operation parameters; "
                     f"'{target}' is a raw call",
                     "use query:, json:, form:, body:, multipart:, headers:")
    if "method" not in raw or "path" not in raw:
        ops = ", ".join(f"{alias}.{o}" for o in spec.operations)
        raise b.fail(path + ("call",), f"'{target}' names a connector but no operation",
                     f"write call: {alias}.<operation> ({ops}), or give method: and path:")
    check_bodies(b, raw, path)
    for key in RAW_KEYS:
        if key in raw:
            b.check_templates(raw[key], path + (key,))
    return CallSpec(alias, None, {}, method=raw["method"].upper(), path=raw["path"],
                    query=raw.get("query"), headers=raw.get("headers"), json=raw.get("json"),
                    has_json="json" in raw, form=raw.get("form"), safe=raw.get("safe"),
                    allow_error=allow_error,
                    body=raw.get("body"), has_body="body" in raw, multipart=raw.get("multipart"),
                    folder=b.folder(), status=status, **answer)


def _answer_keys(b: Builder, raw: Mapping[str, Any], path: Path_) -> dict[str, Any]:
    """``save-to`` and ``follow-redirects``: for an operation's call as for a raw one."""
    if "save-to" in raw:
        b.check_templates(raw["save-to"], path + ("save-to",))
    return {"save_to": raw.get("save-to"), "follow_redirects": raw.get("follow-redirects")}


def expected_statuses(b: Builder, raw: Mapping[str, Any], path: Path_) -> tuple[int, ...]:
    """``status:``, an HTTP status or a list of them, as a tuple (empty when not given). The
    schema refuses anything else first; checked here too, as a step built without it is."""
    value = raw.get("status")
    if value is None:
        return ()
    values = value if isinstance(value, list) else [value]
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int) or not 100 <= v <= 599:
            where = path + ("status",) + ((i,) if isinstance(value, list) else ())
            raise b.fail(where, f"status must be an HTTP status (100-599), got {v!r}",
                         "write status: 200, or a list: status: [200, 201]")
    return tuple(dict.fromkeys(values))

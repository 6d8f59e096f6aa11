"""Loading a ``connector.yaml``: the file read with locations, validated against
``CONNECTOR_SCHEMA``, and turned into a :class:`~runner.connectors.spec.ConnectorSpec` (each
operation's parameters with where they go, its safety, its decoding and not-applied rule);
what the schema cannot say (a ``token`` login naming an operation that is not there) is
refused with the file's location. A connector's entry point calls :func:`load_connector`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.connectors.outcome import NotApplied
from runner.connectors.spec import (
    BODY_KEYS,
    CONNECTOR_SCHEMA,
    ConnectorSpec,
    Operation,
    Param,
    Setting,
    safe_by_verb,
)
from runner.errors import PlaybookError

if TYPE_CHECKING:
    from runner.connectors.hooks import Hooks
    from runner.connectors.paging import Paginate
    from runner.errors import Location


def _param_from(name: str, raw: Mapping[str, Any], method: str, has_body: bool) -> Param:
    # an operation with a `body:` template places its parameters in it, not in a JSON body
    default_in = "query" if method in ("GET", "DELETE", "HEAD") else (
        "body" if has_body else "json")
    return Param(
        name=name,
        type=raw.get("type", "string"),
        required=bool(raw.get("required", False)),
        default=raw.get("default"),
        has_default="default" in raw,
        secret=bool(raw.get("secret", False)),
        location=raw.get("in", default_in),
        description=raw.get("description", ""),
        enum=tuple(raw.get("enum", ())),
    )


def _operation_from(name: str, raw: Mapping[str, Any], default_decode: str,
                    not_applied: NotApplied) -> Operation:
    method = raw["method"]
    params = {k: _param_from(k, v or {}, method, "body" in raw)
              for k, v in (raw.get("params") or {}).items()}
    return Operation(
        name=name,
        method=method,
        path=raw["path"],
        params=params,
        summary=raw.get("summary", ""),
        description=raw.get("description", ""),
        query=raw.get("query"),
        headers=raw.get("headers") or {},
        json=raw.get("json"),
        has_json="json" in raw,
        form=raw.get("form"),
        body=raw.get("body"),
        safe=bool(raw.get("safe", safe_by_verb(method))),
        auth=bool(raw.get("auth", True)),
        decode=raw.get("decode", default_decode),
        success=tuple(raw.get("success", ())),
        not_applied=NotApplied.from_conf(raw["not_applied"], not_applied)
        if "not_applied" in raw else None,
        paginate=_paginate(raw["paginate"]) if "paginate" in raw else None,
    )


def _paginate(conf: Mapping[str, Any]) -> Paginate:
    # imported for an operation that pages only: a connector without one loads no paging code
    from runner.connectors.paging import Paginate

    return Paginate.from_conf(conf)


def _check_paging(op: Operation, location: Location) -> None:
    """A paging operation is safe (every page is the same request again, a read) and declares
    the parameters its style sets."""
    if op.paginate is None:
        return
    if not op.safe:
        raise PlaybookError(
            f"operation '{op.name}' pages (paginate:) but is not safe to repeat ({op.method})",
            location=location, hint="paging sends the request once per page: only a read "
            "may page; mark it safe: true if it changes nothing, or remove paginate:")
    problem = op.paginate.problem(op.params)
    if problem:
        raise PlaybookError(f"operation '{op.name}': {problem}", location=location,
                            hint="declare the parameter under params:, or name another "
                            "one in paginate:")


def load_connector(
    path: str | Path,
    *,
    hooks: type[Hooks] | None = None,
    simulator: Callable[..., Any] | None = None,
) -> ConnectorSpec:
    """Load and validate a ``connector.yaml``; raise PlaybookError with its location if bad."""
    from runner.loader import load_file
    from runner.validation import validate_against

    doc = load_file(path, keep=lambda data: isinstance(data, dict) and "operations" in data)
    validate_against(CONNECTOR_SCHEMA, doc, what="connector")
    raw = doc.data
    decode = raw.get("decode", "auto")
    not_applied = NotApplied.from_conf(raw.get("not_applied"))
    ops = {k: _operation_from(k, v, decode, not_applied) for k, v in raw["operations"].items()}
    for name, op in raw["operations"].items():
        bodies = [key for key in BODY_KEYS if key in op]
        if len(bodies) > 1:
            raise PlaybookError(
                f"operation '{name}' has both '{bodies[0]}' and '{bodies[1]}'; a request "
                "has one body", location=doc.loc(("operations", name, bodies[1])),
                hint=f"keep one of {', '.join(repr(b) for b in bodies)}")
        _check_paging(ops[name], doc.loc(("operations", name, "paginate")))
    settings = {
        k: Setting(k, bool(v.get("required")), bool(v.get("secret")), v.get("default"),
                   v.get("description", ""))
        for k, v in (raw.get("settings") or {}).items()
    }
    per = (raw.get("limits") or {}).get("per")
    if per:  # a limit's key template that cannot compile is the file's fault, said now
        from runner.template_compile import TemplateFailure, compile_template

        try:
            compile_template(per)
        except TemplateFailure as e:
            raise PlaybookError(f"limits.per: {e}", location=doc.loc(("limits", "per")),
                                hint="per: is a template over settings, operation, method "
                                "and connector, e.g. '{{ operation }}'") from None
    auth = raw.get("auth") or {"scheme": "none"}
    if auth["scheme"] == "token" and auth.get("operation") not in ops:
        raise PlaybookError(
            f"auth scheme 'token' names operation '{auth.get('operation')}', which is not defined",
            location=doc.loc(("auth",)),
        )
    return ConnectorSpec(
        name=raw["name"],
        title=raw.get("title", raw["name"]),
        description=raw.get("description", ""),
        settings=settings,
        auth=auth,
        headers=raw.get("headers") or {},
        decode=decode,
        errors=tuple((e["if"], e["message"]) for e in raw.get("errors", ())),
        operations=ops,
        retry=raw.get("retry") or {},
        timeouts={"connect": 5.0, "read": 30.0, **(raw.get("timeouts") or {})},
        source=str(path),
        hooks=hooks,
        simulator=simulator,
        not_applied=not_applied,
        limits=raw.get("limits") or {},
    )

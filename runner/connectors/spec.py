"""Connector specifications: what a ``connector.yaml`` declares, as frozen dataclasses.

A connector file names the settings an environment must give (base URL, credentials), an auth
scheme, how to recognise a vendor error in an answer, and the operations: method, path,
parameters (name, type, required, where they go), whether a call is safe to repeat. Python hooks
cover what data can't say (a request signer, an odd decoder). The file is validated against
``CONNECTOR_SCHEMA`` when the connector loads (:mod:`runner.connectors.loading`), not at first
use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runner.connectors.limits import LIMITS_SCHEMA
from runner.connectors.outcome import NOT_APPLIED_SCHEMA, NotApplied
from runner.connectors.paging_schema import PAGINATE_SCHEMA

if TYPE_CHECKING:
    from runner.connectors.hooks import Hooks
    from runner.connectors.paging import Paginate

PARAM_TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "any": (object,),
}
# "body": the operation's `body:` template uses it, nothing else places it
PARAM_LOCATIONS = ("query", "json", "form", "path", "header", "body")
# the verbs that change nothing (RFC 9110 9.2.1; WebDAV's PROPFIND, REPORT and SEARCH): any
# other verb, one runner has never heard of (MKCOL, LOOKUP...) included, may change state, so
# it is journaled and never re-sent after it may have arrived unless the step says `safe: true`
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "REPORT", "SEARCH"})
# the bodies an operation (or a raw call) may have: one at most
BODY_KEYS = ("json", "form", "body", "multipart")


def safe_by_verb(method: str) -> bool:
    return method.upper() in SAFE_METHODS

_param = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "type": {"enum": list(PARAM_TYPES)},
        "required": {"type": "boolean"},
        "default": {},
        "secret": {"type": "boolean"},
        "in": {"enum": list(PARAM_LOCATIONS)},
        "description": {"type": "string"},
        "enum": {"type": "array"},
    },
}
_operation = {
    "type": "object",
    "additionalProperties": False,
    "required": ["method", "path"],
    "properties": {
        "summary": {"type": "string"},
        "description": {"type": "string",
                        "description": "the vendor documentation's own words for the operation "
                        "(editors show them on hover: runner lsp)"},
        "method": {"type": "string", "pattern": "^[A-Z]+$"},
        "path": {"type": "string"},
        "params": {"type": "object", "additionalProperties": _param},
        "query": {"type": "object"},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "json": {},
        "form": {"type": "object"},
        "body": {"type": "string",
                 "description": "a text body template (a SOAP envelope), sent as-is in UTF-8"},
        "safe": {"type": "boolean"},
        "auth": {"type": "boolean"},
        "decode": {"enum": ["json", "text", "xml", "auto"]},
        "success": {"type": "array", "items": {"type": "integer"}},
        "not_applied": NOT_APPLIED_SCHEMA,
        "paginate": PAGINATE_SCHEMA,
    },
}
CONNECTOR_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "runner connector",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "operations"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "settings": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "required": {"type": "boolean"},
                    "secret": {"type": "boolean"},
                    "default": {},
                    "description": {"type": "string"},
                },
            },
        },
        "auth": {
            "type": "object",
            "required": ["scheme"],
            "properties": {
                "scheme": {"enum": ["none", "token", "oauth2_client_credentials", "bearer",
                                    "api_key", "basic", "digest", "signed", "settings"]},
            },
        },
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "decode": {"enum": ["json", "text", "xml", "auto"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["if", "message"],
                "additionalProperties": False,
                "properties": {"if": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "retry": {"type": "object"},
        "limits": LIMITS_SCHEMA,  # runner.connectors.limits, gates
        "not_applied": NOT_APPLIED_SCHEMA,
        "timeouts": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"connect": {"type": "number"}, "read": {"type": "number"}},
        },
        "operations": {"type": "object", "minProperties": 1, "additionalProperties": _operation},
    },
}


@dataclass(frozen=True)
class Param:
    """A parameter of an operation: its type, whether required, where it goes."""
    name: str
    type: str = "string"
    required: bool = False
    default: Any = None
    has_default: bool = False
    secret: bool = False
    location: str = "query"
    description: str = ""
    enum: tuple[Any, ...] = ()

    def accepts(self, value: Any) -> bool:
        if self.type == "any":
            return True
        if isinstance(value, bool) and self.type in ("integer", "number"):
            return False
        return isinstance(value, PARAM_TYPES[self.type])


@dataclass(frozen=True)
class Operation:
    """One operation of a connector file: method, path, parameters and how its answer reads."""
    name: str
    method: str
    path: str
    params: Mapping[str, Param]
    summary: str = ""
    query: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    has_json: bool = False
    form: Mapping[str, Any] | None = None
    body: str | None = None  # a text body template
    safe: bool = True
    auth: bool = True
    decode: str | None = None
    success: tuple[int, ...] = ()
    not_applied: NotApplied | None = None  # None: the connector's
    description: str = ""  # the vendor doc's words (hover in an editor)
    paginate: Paginate | None = None  # how a list operation pages (runner.connectors.paging)


@dataclass(frozen=True)
class Setting:
    """A setting a connector takes (``base_url``, credentials): required, secret, default."""
    name: str
    required: bool = False
    secret: bool = False
    default: Any = None
    description: str = ""


@dataclass(frozen=True)
class ConnectorSpec:
    """A loaded, validated connector. ``hooks`` builds the vendor's Python hooks, if any."""

    name: str
    title: str
    description: str
    settings: Mapping[str, Setting]
    auth: Mapping[str, Any]
    headers: Mapping[str, str]
    decode: str
    errors: tuple[tuple[str, str], ...]
    operations: Mapping[str, Operation]
    retry: Mapping[str, Any]
    timeouts: Mapping[str, float]
    source: str
    hooks: type[Hooks] | None = None
    simulator: Callable[..., Any] | None = None
    not_applied: NotApplied = field(default_factory=NotApplied)
    limits: Mapping[str, Any] = field(default_factory=dict)  # as written (limits.merged)

    @property
    def auth_scheme(self) -> str:
        return str(self.auth.get("scheme", "none"))

    def operation(self, name: str) -> Operation | None:
        return self.operations.get(name)

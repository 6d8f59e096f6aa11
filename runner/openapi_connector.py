"""A connector file made from an OpenAPI 3 document (``runner connector new --from DOC NAME``).

Each operation becomes an operation of the connector: its method and path, its parameters
typed (path, query and header parameters; a JSON or form body's properties, or the whole body
as one ``body`` parameter when it is not an object), its summary, its description (with the
answers the document lists, errors included), ``success:`` when the document lists only some
2xx statuses. The document's security scheme becomes ``auth:`` and its settings; a second
API-key header a scheme requires beside it (Alvaria's ``x-api-key``) becomes a default header.
What could not be mapped is said, in the file's head and to the caller, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.openapi_doc import DocOperation, OpenApiDoc, Parameter

TYPES = ("string", "integer", "number", "boolean", "object", "array")
ERROR_WORDS = ("message", "error_description", "error", "detail", "title", "reason")


@dataclass
class Auth:
    """How the connector authenticates, for its file and for the simulator's checks."""

    kind: str = "none"  # none, bearer, basic, api_key, api_key_query, oauth2
    name: str = ""  # the header (or query parameter) of an API key
    headers: dict[str, str] = field(default_factory=dict)  # extra API-key headers: name -> setting
    scopes: str = ""
    token_url: str = ""


@dataclass
class Generated:
    """A connector file made from an OpenAPI document, with its auth and notes."""
    connector: dict[str, Any]
    auth: Auth
    notes: list[str]


def type_of(schema: Mapping[str, Any] | None) -> str:
    """runner's parameter type of a JSON Schema: its ``type`` (3.1's list: the first that is
    not null), else ``object`` for properties, ``array`` for items, else ``any``."""
    if not isinstance(schema, Mapping):
        return "any"
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    if t in TYPES:
        return str(t)
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "any"


def auth_of(doc: OpenApiDoc, notes: list[str]) -> tuple[Auth, dict[str, Any], dict[str, Any]]:
    """The auth, its settings and the ``auth:`` block, from the document's first security
    requirement (schemes in it are all required: the first runner can send is the scheme, the
    other API-key headers become default headers)."""
    schemes = doc.security_schemes
    wanted = doc.security[0] if doc.security else tuple(schemes)[:1]
    auth, settings = Auth(), {}
    block: dict[str, Any] = {"scheme": "none"}
    for key in wanted:
        s = schemes.get(key) or {}
        kind, where = s.get("type"), s.get("in")
        if kind == "apiKey" and where == "header" and auth.kind != "none":
            setting = _setting_name(s.get("name", key))
            auth.headers[str(s["name"])] = setting
            settings[setting] = {"required": True, "secret": True,
                                 "description": s.get("description") or f"the {s['name']} header"}
            continue
        if auth.kind != "none":
            notes.append(f"security scheme '{key}' ({kind}) beside '{auth.kind}': not mapped")
            continue
        if kind == "http" and str(s.get("scheme", "")).lower() in ("bearer", "basic", "digest"):
            auth.kind = str(s["scheme"]).lower()
            block = {"scheme": auth.kind}
            if auth.kind == "bearer":
                settings["token"] = {"required": True, "secret": True,
                                     "description": s.get("description") or "the bearer token"}
            else:
                settings["username"] = {"required": True}
                settings["password"] = {"required": True, "secret": True}
        elif kind == "apiKey" and where in ("header", "query"):
            auth.kind, auth.name = ("api_key" if where == "header" else "api_key_query"), s["name"]
            block = {"scheme": "api_key", "value": "{{ settings.api_key }}"}
            block.update({"header": s["name"]} if where == "header"
                         else {"in": "query", "name": s["name"]})
            settings["api_key"] = {"required": True, "secret": True,
                                   "description": s.get("description") or f"the {s['name']}"}
        elif kind == "oauth2" and "clientCredentials" in (s.get("flows") or {}):
            flow = s["flows"]["clientCredentials"]
            auth.kind, auth.token_url = "oauth2", str(flow.get("tokenUrl", ""))
            auth.scopes = " ".join(flow.get("scopes") or {})
            block = {"scheme": "oauth2_client_credentials", "token_url": "{{ settings.token_url }}"}
            if auth.scopes:
                block["form"] = {"scope": auth.scopes}
            settings["token_url"] = {"required": True, "default": auth.token_url,
                                     "description": "the OAuth2 token endpoint"}
            settings["client_id"] = {"required": True}
            settings["client_secret"] = {"required": True, "secret": True}
        elif kind in ("oauth2", "openIdConnect"):
            auth.kind, block = "bearer", {"scheme": "bearer"}
            settings["token"] = {"required": True, "secret": True,
                                 "description": f"an access token ({key}: get it yourself)"}
            notes.append(f"security scheme '{key}' ({kind}, no client-credentials flow): "
                         "mapped to a bearer token the environment gives")
        else:
            notes.append(f"security scheme '{key}' ({kind}, in {where}): not mapped")
    return auth, settings, block


def generate(doc: OpenApiDoc, name: str) -> Generated:
    notes = list(doc.notes)
    auth, auth_settings, block = auth_of(doc, notes)
    settings: dict[str, Any] = {"base_url": {"required": True, "description": doc.server
                                             or "the API's base URL"}}
    settings.update(auth_settings)
    skip = {"authorization", auth.name.lower(), *(h.lower() for h in auth.headers)}
    operations: dict[str, Any] = {}
    for op in doc.operations:
        operations[op.name] = _operation(op, skip, notes)
        if op.public and auth.kind != "none":
            operations[op.name]["auth"] = False
        elif op.security and set(op.security[0]) != set(
                doc.security[0] if doc.security else ()):
            notes.append(f"{op.name}: its own security ({', '.join(op.security[0])}) "
                         "is not mapped: the connector's auth is used")
    out: dict[str, Any] = {"name": name, "title": doc.title or name}
    if doc.description:
        out["description"] = doc.description
    out["settings"] = settings
    out["auth"] = block
    if auth.headers:
        out["headers"] = {h: f"{{{{ settings.{s} }}}}" for h, s in auth.headers.items()}
    rule = _error_rule(doc)
    if rule:
        out["errors"] = [rule]
    out["operations"] = operations
    return Generated(out, auth, notes)


def _operation(op: DocOperation, skip: set[str], notes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if op.summary:
        out["summary"] = op.summary
    lines = [op.description] if op.description else []
    lines.append("Answers: " + "; ".join(
        f"{a.status}{' ' + a.description if a.description else ''}" for a in op.answers))
    out["description"] = "\n".join(lines)
    out["method"], out["path"] = op.method, op.path
    params: dict[str, Any] = {}
    for p in op.params:
        if p.location == "header" and p.name.lower() in skip:
            continue  # the connector's auth sends it
        if p.location == "cookie":
            notes.append(f"{op.name}: cookie parameter '{p.name}' not mapped")
            continue
        params[p.name] = _param(p, p.location)
    if op.body_schema is not None:
        where = "form" if op.body_media.startswith("application/x-www-form") else "json"
        props = op.body_schema.get("properties") if type_of(op.body_schema) == "object" else None
        if isinstance(props, Mapping) and props:
            required = set(op.body_schema.get("required") or [])
            for key, schema in props.items():
                if key in params:
                    notes.append(f"{op.name}: body field '{key}' has a parameter's name: "
                                 "not mapped")
                    continue
                params[key] = _param(Parameter(key, where, schema, key in required,
                                               str(schema.get("description", ""))), where)
        else:
            key = body_name(op)
            params[key] = _param(Parameter(key, where, op.body_schema, op.body_required,
                                           "the request's whole body"), where)
            out[where] = f"{{{{ {key} }}}}"
            if where == "form":
                out["form"] = {}
                notes.append(f"{op.name}: a form body that is not an object: not mapped")
    if params:
        out["params"] = params
    notes.extend(f"{op.name}: {n}" for n in op.notes)
    statuses = [int(a.status) for a in op.answers if a.status.isdigit()]
    ok = sorted(s for s in statuses if 200 <= s < 300)
    if ok and ok != list(range(200, 300)) and any(s != 200 for s in ok):
        out["success"] = ok
    return out


def body_name(op: DocOperation) -> str:
    """The parameter a body that is not an object goes in: ``body``, unless one is named so."""
    return "request_body" if any(p.name == "body" for p in op.params) else "body"


def _param(p: Parameter, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type_of(p.schema)}
    if p.required:
        out["required"] = True
    out["in"] = where
    if isinstance(p.schema, Mapping):
        if "default" in p.schema:
            out["default"] = p.schema["default"]
        if isinstance(p.schema.get("enum"), list):
            out["enum"] = p.schema["enum"]
        if p.schema.get("format") == "password":
            out["secret"] = True
    if p.description:
        out["description"] = p.description
    return out


def _error_rule(doc: OpenApiDoc) -> dict[str, str] | None:
    """An ``errors:`` rule when the documented error answers share a message field."""
    for op in doc.operations:
        for a in op.answers:
            error = a.status[:1] in ("4", "5") or a.status == "default"
            props = (a.schema or {}).get("properties") if error else None
            word = next((w for w in ERROR_WORDS if isinstance(props, Mapping) and w in props), "")
            if word:
                return {"if": f"response.status_code >= 400 and response.json is mapping and "
                              f"response.json.{word} is defined",
                        "message": f"{{{{ response.json.{word} }}}} "
                                   "(HTTP {{ response.status_code }})"}
    return None


def _setting_name(header: str) -> str:
    from runner.openapi_doc import snake

    return snake(header)

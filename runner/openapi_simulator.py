"""The simulator skeleton ``runner connector new --from DOC`` writes beside the connector file:
Python source of a :class:`runner.connectors.Simulator` with one route per operation, each
answering the operation's documented example (its first 2xx answer; where the document has no
example, a value made from the answer's schema, and the route says so), after checking the
credentials the connector sends and the required query parameters and body fields. It is a
start to edit, not the vendor: state, errors and the vendor's quirks are the author's to add.
"""

from __future__ import annotations

import pprint
import re
from collections.abc import Mapping
from typing import Any

from runner.openapi_connector import Auth, type_of
from runner.openapi_doc import Answer, DocOperation, OpenApiDoc

TOKEN_PATH = "/_simulator/token"  # where the simulator's OAuth2 token endpoint is served
_SAMPLES = {"date-time": "2024-01-01T00:00:00Z", "date": "2024-01-01", "email": "a@example.com",
            "uuid": "00000000-0000-4000-8000-000000000000", "uri": "https://example.com/"}

HEAD = '''"""Simulator of {title}, written by `runner connector new --from {doc}`.

Each route answers its operation's documented example (or, where the document has none, a value
made from the answer's schema: marked "made up" below) once the credentials and the required
query parameters and body fields are there. Edit it to behave as the vendor does: keep state
under self.lock, answer the documented errors (docs/writing-a-connector.md, "The simulator").
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from runner.connectors import Reply, Request, Simulator, json_reply, route, text_reply


class {cls}(Simulator):
    name = {name!r}
    prefix = {prefix!r}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.credential = secrets.token_urlsafe(18)  # the connector's, made up per session
        self.keys = {keys}
        self.tokens: set[str] = set()

    def connector_settings(self) -> dict[str, Any]:
        return {settings}

    def secret_values(self) -> list[str]:
        return [self.credential, *self.keys.values(), *self.tokens]

    def refused(self, req: Request) -> Reply | None:
        """401 unless the request carries what the connector sends."""
        ok = {check}
        ok = ok and all(req.headers.get(h.lower()) == v for h, v in self.keys.items())
        return None if ok else json_reply(401, {{"message": "unauthorized"}})

    def missing(self, req: Request, query: tuple[str, ...] = (),
                body: tuple[str, ...] = ()) -> Reply | None:
        """400 naming the first required query parameter or body field that is not there."""
        absent = [q for q in query if q not in req.query]
        if body:
            try:
                data = req.json() if req.body else {{}}
            except ValueError:
                data = req.form()
            absent += [b for b in body if not isinstance(data, dict) or b not in data]
        return json_reply(400, {{"message": f"missing {{absent[0]}}"}}) if absent else None
'''

TOKEN = '''
    @route("POST", {path!r}, "token")
    def token(self, req: Request) -> Reply:
        """The OAuth2 client-credentials token endpoint (the document's is {url})."""
        basic = base64.b64encode(f"client:{{self.credential}}".encode()).decode()
        if req.headers.get("authorization") != f"Basic {{basic}}":
            return json_reply(401, {{"error": "invalid_client"}})
        token = secrets.token_urlsafe(18)
        with self.lock:
            self.tokens.add(token)
        return json_reply(200, {{"access_token": token, "token_type": "Bearer",
                                "expires_in": 3600}})
'''

TAIL = '''

def simulator(**options: Any) -> {cls}:
    """What the sandbox starts for this connector (connectors/<name>.py's `simulator`)."""
    return {cls}(**options)
'''


def simulator_source(doc: OpenApiDoc, name: str, auth: Auth, doc_name: str,
                     notes: list[str]) -> str:
    cls = "".join(w.capitalize() for w in name.split("_")) + "Simulator"
    settings = {"base_url": "self.url"}
    check = "True"
    if auth.kind in ("bearer", "oauth2"):
        check = ('req.bearer() == self.credential' if auth.kind == "bearer"
                 else 'req.bearer() in self.tokens')
    elif auth.kind in ("basic", "digest"):
        check = ('req.headers.get("authorization") == "Basic " + base64.b64encode('
                 'f"user:{self.credential}".encode()).decode()')
    elif auth.kind == "api_key":
        check = f'req.headers.get({auth.name.lower()!r}) == self.credential'
    elif auth.kind == "api_key_query":
        check = f'req.query.get({auth.name!r}) == self.credential'
    settings.update({"bearer": {"token": "self.credential"},
                     "basic": {"username": "'user'", "password": "self.credential"},
                     "digest": {"username": "'user'", "password": "self.credential"},
                     "api_key": {"api_key": "self.credential"},
                     "api_key_query": {"api_key": "self.credential"},
                     "oauth2": {"token_url": f"self.url + {TOKEN_PATH!r}",
                                "client_id": "'client'", "client_secret": "self.credential"},
                     }.get(auth.kind, {}))
    settings.update({s: f"self.keys[{h!r}]" for h, s in auth.headers.items()})
    keys = "{" + ", ".join(f"{h!r}: secrets.token_urlsafe(12)" for h in auth.headers) + "}"
    text = HEAD.format(title=doc.title or name, doc=doc_name, cls=cls, name=name,
                       prefix=doc.base_path, keys=keys, check=check,
                       settings="{" + ", ".join(f"{k!r}: {v}" for k, v in settings.items()) + "}")
    if auth.kind == "oauth2":
        text += TOKEN.format(path=TOKEN_PATH, url=auth.token_url)
    if auth.kind == "digest":
        notes.append("the simulator checks digest credentials as basic ones: edit refused()")
    made_up: list[str] = []
    for op in doc.operations:
        text += _route(doc, op, made_up)
    if made_up:
        notes.append("no example in the document, so the simulator answers a value made from "
                     f"the answer's schema: {', '.join(made_up)}")
    return text + TAIL.format(cls=cls)


def _route(doc: OpenApiDoc, op: DocOperation, made_up_in: list[str]) -> str:
    pattern = _pattern(_relative(doc, op.path), [_relative(doc, o.path) for o in doc.operations])
    answer = _first_success(op.answers)
    reply, made_up = _reply(answer)
    if made_up:
        made_up_in.append(op.name)
    query = tuple(p.name for p in op.params if p.location == "query" and p.required)
    body = tuple(op.body_schema.get("required") or []) if isinstance(op.body_schema, Mapping) \
        and type_of(op.body_schema) == "object" else ()
    checks = [] if op.public else ["self.refused(req)"]
    if query or body:
        checks.append(f"self.missing(req, query={query!r}, body={tuple(body)!r})")
    listed = ", ".join(a.status for a in op.answers)
    return (f'\n    @route({op.method!r}, {pattern!r}, {op.name!r})\n'
            f'    def op_{op.name}(self, req: Request) -> Reply:\n'
            f'        """{_doc_line(op)}\n\n        Documented answers: {listed}."""\n'
            + ("        # no example in the document: made up from the answer's schema\n"
               if made_up else "")
            + f"        return {' or '.join([*checks, reply])}\n")


def _relative(doc: OpenApiDoc, path: str) -> str:
    """A path under the simulator's prefix (the server URL's path)."""
    return path[len(doc.base_path):] if doc.base_path and path.startswith(doc.base_path) \
        else path


def _doc_line(op: DocOperation) -> str:
    words = (op.summary or op.description or "").strip().splitlines()
    text = f"{op.label}: {words[0]}" if words else op.label
    return text.replace('"' * 3, "'" * 3).replace("\\", "/")


def _pattern(path: str, others: list[str]) -> str:
    """The route's regex: each ``{param}`` a named group of one segment that does not match a
    literal segment another path has at the same place (``/pets/mine`` beside ``/pets/{id}``),
    so the literal's route answers it, in whatever order the routes are tried."""
    segs = path.split("/")
    out, names = [], set[str]()
    for i, seg in enumerate(segs):
        pattern = ""
        for part in re.split(r"(\{[^}]+\})", seg):
            m = re.fullmatch(r"\{([^}]+)\}", part)
            if not m:
                pattern += re.escape(part)
                continue
            group = re.sub(r"\W", "_", m.group(1))
            if not group[:1].isalpha() or group in names:
                group = f"p{len(names)}_{group}"
            names.add(group)
            avoid = sorted(_literals_at(i, segs, others)) if part == seg else []
            guard = "(?!(?:" + "|".join(re.escape(a) for a in avoid) + ")(?:/|$))" if avoid else ""
            pattern += f"(?P<{group}>{guard}[^/]+)"
        out.append(pattern)
    return "/".join(out)


def _literals_at(i: int, segs: list[str], others: list[str]) -> set[str]:
    found = set()
    for other in others:
        o = other.split("/")
        if len(o) != len(segs) or "{" in o[i] or o == segs:
            continue
        pairs = enumerate(zip(segs, o, strict=True))
        if all(a == b or "{" in a or "{" in b for j, (a, b) in pairs if j != i):
            found.add(o[i])
    return found


def _first_success(answers: tuple[Answer, ...]) -> Answer | None:
    ok = sorted((a for a in answers if a.status.startswith("2")), key=lambda a: a.status)
    return ok[0] if ok else next((a for a in answers if a.status == "default"), None)


def _reply(answer: Answer | None) -> tuple[str, bool]:
    if answer is None:
        return "Reply(200)", False
    status = int(answer.status) if answer.status.isdigit() else 200
    if not answer.media:
        return f"Reply({status})", False
    made_up = not answer.has_example
    value = answer.example if answer.has_example else instance(answer.schema or {})
    literal = _literal(value)
    if answer.media.split(";")[0].endswith("json"):
        return f"json_reply({status}, {literal})", made_up
    text = value if isinstance(value, str) else str(value)
    return f"text_reply({status}, {text!r}, {answer.media!r})", made_up


def _literal(value: Any) -> str:
    text = pprint.pformat(value, width=80, sort_dicts=False)
    return text.replace("\n", "\n" + " " * 12)


def instance(schema: Mapping[str, Any], depth: int = 0) -> Any:
    """A value the (dereferenced) schema accepts: its example, default or first enum value,
    else one made from its type (an object's properties, one item of an array)."""
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("allOf", "oneOf", "anyOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            parts = [instance(s, depth + 1) for s in schema[key] if isinstance(s, Mapping)]
            if key == "allOf" and all(isinstance(p, dict) for p in parts):
                return {k: v for p in parts for k, v in p.items()}
            return parts[0] if parts else None
    kind = type_of(schema)
    if depth > 6:
        return None
    if kind == "object":
        props = schema.get("properties") or {}
        return {k: instance(v, depth + 1) for k, v in props.items() if isinstance(v, Mapping)}
    if kind == "array":
        items = schema.get("items")
        return [instance(items, depth + 1)] if isinstance(items, Mapping) else []
    return {"string": _SAMPLES.get(str(schema.get("format")), "string"), "integer": 0,
            "number": 0.0, "boolean": True}.get(kind)

"""``runner connector check NAME --against DOC``: where a connector and an OpenAPI document
disagree. Operations are matched by method and path (each ``{param}``, and a connector path's
``{{ template }}``, counts as one placeholder), then by name when the path changed; of each
matched pair the parameters are compared: missing, extra, of another type, required on one side
only, placed elsewhere. A document's path parameter the connector fills from a setting
(``{{ settings.org_id }}``) is not missing, and the headers the connector's auth sends
(``Authorization``, its API-key headers) are not parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runner.connectors.spec import ConnectorSpec, Operation
from runner.openapi_connector import body_name, type_of
from runner.openapi_doc import DocOperation, OpenApiDoc

_SLOT = re.compile(r"\{\{.*?\}\}|\{[^{}]+\}")


@dataclass(frozen=True)
class Disagreement:
    """Where a connector file and an OpenAPI document disagree."""
    kind: str  # missing, extra, method, param-missing, param-extra, type, required, in
    operation: str
    text: str

    def line(self) -> str:
        return f"{self.kind:<14} {self.operation}: {self.text}"


def shape(path: str) -> str:
    """A path with each placeholder as ``{}`` and no trailing slash: what two paths share."""
    return _SLOT.sub("{}", path).rstrip("/") or "/"


def compare(spec: ConnectorSpec, doc: OpenApiDoc) -> list[Disagreement]:
    out: list[Disagreement] = []
    ours = dict(spec.operations)
    by_shape = {(op.method, shape(op.path)): name for name, op in ours.items()}
    skip = {"authorization", *(h.lower() for h in spec.headers),
            str(spec.auth.get("header", "")).lower(), str(spec.auth.get("name", "")).lower()}
    matched: set[str] = set()
    for d in doc.operations:
        name = by_shape.get((d.method, shape(d.path)))
        if name is None and d.name in ours and d.name not in matched:
            op = ours[d.name]
            if shape(op.path) == shape(d.path):
                out.append(Disagreement("method", d.name, f"the document says {d.method}, "
                                        f"the connector {op.method} ({d.path})"))
            else:
                out.append(Disagreement("path", d.name, f"the document says {d.label}, the "
                                        f"connector {op.method} {op.path}"))
            name = d.name
        if name is None:
            out.append(Disagreement("missing", d.name, f"{d.label} is in the document, not in "
                                    "the connector"))
            continue
        matched.add(name)
        out += _params(name, ours[name], d, skip)
    for name, op in ours.items():
        if name not in matched and not (op.path.startswith("http") or op.auth is False):
            out.append(Disagreement("extra", name, f"{op.method} {op.path} is in the "
                                    "connector, not in the document"))
    return out


def _params(name: str, op: Operation, d: DocOperation, skip: set[str]) -> list[Disagreement]:
    out = []
    from_settings = _setting_slots(op.path, d.path)
    theirs = {p.name: (p.location, type_of(p.schema), p.required) for p in d.params
              if not (p.location == "header" and p.name.lower() in skip)
              and p.name not in from_settings}
    body = d.body_schema or {}
    props = body.get("properties") if type_of(body) == "object" else None
    where = "form" if d.body_media.startswith("application/x-www-form") else "json"
    if isinstance(props, dict) and props:
        needed = set(body.get("required") or [])
        theirs.update({k: (where, type_of(v), k in needed) for k, v in props.items()})
    elif d.body_schema is not None:
        theirs[body_name(d)] = (where, type_of(body), d.body_required)
    for key, (location, kind, required) in theirs.items():
        p = op.params.get(key)
        if p is None:
            if location in ("json", "form") and (op.has_json or op.form is not None):
                continue  # the connector's body template places it, as it sees fit
            out.append(Disagreement("param-missing", name, f"'{key}' ({location}, {kind}"
                                    f"{', required' if required else ''}) is not a parameter"))
            continue
        if kind != "any" and p.type not in (kind, "any"):
            out.append(Disagreement("type", name, f"'{key}' is {kind} in the document, "
                                    f"{p.type} in the connector"))
        if required and not (p.required or p.has_default):
            out.append(Disagreement("required", name, f"'{key}' is required by the document, "
                                    "optional in the connector"))
        if location != p.location and not (location in ("json", "form") and op.has_json):
            out.append(Disagreement("in", name, f"'{key}' goes in {location} in the document, "
                                    f"in {p.location} in the connector"))
    for key, p in op.params.items():
        if key not in theirs and p.location not in ("body",) and not _in_template(op, key):
            out.append(Disagreement("param-extra", name, f"'{key}' ({p.location}) is not in "
                                    "the document"))
    return out


def _setting_slots(ours: str, theirs: str) -> set[str]:
    """The document's path parameters the connector's path fills with a template."""
    a, b = _SLOT.findall(ours), _SLOT.findall(theirs)
    return {t.strip("{}") for o, t in zip(a, b, strict=False) if o.startswith("{{")}


def _in_template(op: Operation, key: str) -> bool:
    """Whether the connector's own body or query template reads the parameter (the document
    names the fields of the body it makes, not the parameter)."""
    texts = [str(op.json), str(op.form), str(op.query), str(op.body)]
    return any(re.search(rf"\b{re.escape(key)}\b", t) for t in texts if t != "None")

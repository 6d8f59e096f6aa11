"""An OpenAPI 3 document read for what runner makes of it: its operations (method, path,
parameters, request body, answers with their schemas and examples), its auth schemes and its
base path. Local ``$ref`` (``#/components/...``) are followed; a reference to another file is
kept as a note ("not mapped"), never fetched.

The generator (``runner connector new --from``), the check (``runner connector check``) and the
schema assertion (``assert: {schema: {openapi: DOC, operation: ID}}``) all read a document
through :func:`load_openapi`, so an operation has one name everywhere: its ``operationId`` in
snake_case, else its method and the path's words (:func:`operation_name`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from runner.errors import InvalidInput

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Parameter:
    """A parameter of an OpenAPI operation."""
    name: str
    location: str  # path, query, header, cookie, json, form, body
    schema: Mapping[str, Any]
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class Answer:
    """An answer an OpenAPI operation documents: status, media type, schema, example."""
    status: str  # "200", "4XX", "default"
    description: str
    media: str  # the content type chosen ("" when the answer has no body)
    schema: Mapping[str, Any] | None
    pointer: str  # JSON pointer of the schema in the document ("" when none)
    example: Any = None
    has_example: bool = False


@dataclass(frozen=True)
class DocOperation:
    """An OpenAPI operation as ``runner connector new`` reads it."""
    name: str
    operation_id: str
    method: str  # upper case
    path: str
    summary: str
    description: str
    params: tuple[Parameter, ...]
    body_media: str  # application/json, application/x-www-form-urlencoded, ... or ""
    body_schema: Mapping[str, Any] | None
    body_required: bool
    answers: tuple[Answer, ...]
    security: tuple[tuple[str, ...], ...] | None  # None: the document's default
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def public(self) -> bool:
        """``security: []`` (or only empty requirements): called without credentials."""
        return self.security is not None and all(not req for req in self.security)


@dataclass
class OpenApiDoc:
    """An OpenAPI document as ``runner connector new/check`` reads it."""
    file: str
    data: dict[str, Any]
    version: str
    title: str
    description: str
    base_path: str
    server: str
    operations: list[DocOperation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def operation(self, key: str) -> DocOperation | None:
        """By runner's name, by ``operationId`` or by ``METHOD /path``."""
        for op in self.operations:
            if key in (op.name, op.operation_id, op.label):
                return op
        return None

    @property
    def security_schemes(self) -> dict[str, Any]:
        raw = self.data.get("components", {}).get("securitySchemes", {}) or {}
        return {k: self.resolve(v)[0] for k, v in raw.items()}

    @property
    def security(self) -> tuple[tuple[str, ...], ...]:
        return _requirements(self.data.get("security"))

    def resolve(self, node: Any, pointer: str = "") -> tuple[Any, str]:
        """``node`` with its ``$ref`` chain followed (local references only), and its pointer."""
        seen = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#"):
                raise InvalidInput(f"{self.file}: {ref!r} is a reference to another file",
                                   hint="only references inside the document (#/...) are read")
            if ref in seen:
                raise InvalidInput(f"{self.file}: {ref!r} refers to itself")
            seen.add(ref)
            node, pointer = _pointer(self.data, ref[1:], self.file), ref[1:]
        return node, pointer


    def deref(self, node: Any, depth: int = 0) -> Any:
        """``node`` with every local ``$ref`` in it replaced by what it names (a schema that
        refers to itself is cut, as ``{}``, eight references deep)."""
        if isinstance(node, Mapping):
            if isinstance(node.get("$ref"), str):
                if depth >= 8 or not node["$ref"].startswith("#"):
                    return {}
                return self.deref(self.resolve(node)[0], depth + 1)
            return {k: self.deref(v, depth) for k, v in node.items()}
        if isinstance(node, list):
            return [self.deref(v, depth) for v in node]
        return node


def load_openapi(path: str | Path) -> OpenApiDoc:
    """Read an OpenAPI 3.x document (YAML or JSON); InvalidInput when it is not one."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidInput(f"cannot read {p}: {e.strerror or e}") from None
    try:
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as e:
        raise InvalidInput(f"{p}: not YAML or JSON: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict) or not str(data.get("openapi", "")).startswith("3."):
        found = data.get("swagger") if isinstance(data, dict) else None
        raise InvalidInput(f"{p}: not an OpenAPI 3 document (no 'openapi: 3.x')",
                           hint="Swagger 2.0 documents convert with swagger2openapi"
                           if found else "give the OpenAPI document of the API")
    info = data.get("info") or {}
    server = str(((data.get("servers") or [{}])[0] or {}).get("url", ""))
    doc = OpenApiDoc(str(p), data, str(data["openapi"]), str(info.get("title", "")),
                     str(info.get("description", "")).strip(),
                     urlsplit(server).path.rstrip("/"), server)
    names: set[str] = set()
    paths = data.get("paths") or {}
    common = _common_words([str(k) for k in paths])
    for path_key, item in paths.items():
        item, _ = doc.resolve(item)
        for method in METHODS:
            if isinstance(item, Mapping) and method in item:
                op = _operation(doc, str(path_key), method, item, names, common)
                names.add(op.name)
                doc.operations.append(op)
    return doc


def snake(text: str) -> str:
    """``getPetById`` -> ``get_pet_by_id``; anything else than letters and digits -> ``_``."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    return text if re.match(r"^[a-z]", text) else f"op_{text}"


def operation_name(method: str, path: str, operation_id: str = "", common: int = 0) -> str:
    """runner's name of an operation: its operationId in snake_case, else its method and the
    path's words after the ``common`` first ones all paths share (``get_pets_by_id``)."""
    if operation_id:
        return snake(operation_id)
    words = []
    for seg in unquote(path).strip("/").split("/")[common:]:
        m = re.fullmatch(r"\{(.+)\}", seg)
        words.append(f"by_{m.group(1)}" if m else seg)
    return snake("_".join([method.lower(), *words]))


def _common_words(paths: list[str]) -> int:
    """How many leading words (not parameters) every path shares, one left to each: ``/lab/api``
    of ``/lab/api/settings`` and ``/lab/api/workspaces/{id}`` is 2."""
    split = [p.strip("/").split("/") for p in paths]
    if len(split) < 2:
        return 0
    n = 0
    while all(len(s) > n + 1 for s in split) and len({s[n] for s in split}) == 1 \
            and not split[0][n].startswith("{"):
        n += 1
    return n


def _operation(doc: OpenApiDoc, path: str, method: str, item: Mapping[str, Any],
               taken: set[str], common: int) -> DocOperation:
    raw, _ = doc.resolve(item[method])
    name = operation_name(method, path, str(raw.get("operationId", "")), common)
    base, n = name, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    notes: list[str] = []
    params: dict[tuple[str, str], Parameter] = {}
    for level in (item.get("parameters") or [], raw.get("parameters") or []):
        for p in level:  # the operation's own win over the path item's
            p, _ = doc.resolve(p)
            schema = doc.deref(p.get("schema") or {})
            if "schema" not in p and "content" in p:
                notes.append(f"parameter {p.get('name')}: 'content' read as any type")
            params[(p["name"], p["in"])] = Parameter(
                str(p["name"]), str(p["in"]), schema, bool(p.get("required")) or p["in"] == "path",
                str(p.get("description", "")).strip())
    body_media, body_schema, body_required = "", None, False
    if raw.get("requestBody"):
        body, _ = doc.resolve(raw["requestBody"])
        content = body.get("content") or {}
        body_media = _choose(content)
        body_required = bool(body.get("required"))
        if body_media:
            body_schema = doc.deref(content[body_media].get("schema") or {})
        else:
            notes.append(f"request body of type {', '.join(content) or 'none'}: not mapped "
                         "(JSON and form bodies are)")
    answers = []
    for status, answer in (raw.get("responses") or {}).items():
        answer, at = doc.resolve(answer, f"/paths/{_escape(path)}/{method}/responses/{status}")
        content = answer.get("content") or {}
        media = _choose(content, any_media=True)
        schema, pointer, example, has = None, "", None, False
        if media:
            entry = content[media]
            if "schema" in entry:
                pointer = doc.resolve(entry["schema"], f"{at}/content/{_escape(media)}/schema")[1]
                schema = doc.deref(entry["schema"])
            example, has = _example(doc, entry, schema)
        answers.append(Answer(str(status), str(answer.get("description", "")).strip(), media,
                              schema, pointer, example, has))
    security = _requirements(raw["security"]) if "security" in raw else None
    return DocOperation(name, str(raw.get("operationId", "")), method.upper(), path,
                        str(raw.get("summary", "")).strip(),
                        str(raw.get("description", "")).strip(), tuple(params.values()),
                        body_media, body_schema, body_required, tuple(answers), security,
                        tuple(notes))


def _choose(content: Mapping[str, Any], *, any_media: bool = False) -> str:
    """The content type runner reads best: JSON, then a form, then (for answers) any."""
    for media in content:
        if media.split(";")[0].strip() == "application/json" or media.endswith("+json"):
            return str(media)
    for media in content:
        if media.startswith("application/x-www-form-urlencoded"):
            return str(media)
    return str(next(iter(content), "")) if any_media else ""


def _example(doc: OpenApiDoc, entry: Mapping[str, Any], schema: Any) -> tuple[Any, bool]:
    if "example" in entry:
        return entry["example"], True
    for ex in (entry.get("examples") or {}).values():
        ex, _ = doc.resolve(ex)
        if isinstance(ex, Mapping) and "value" in ex:
            return ex["value"], True
    if isinstance(schema, Mapping) and "example" in schema:
        return schema["example"], True
    return None, False


def _requirements(raw: Any) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(req) for req in raw or [] if isinstance(req, Mapping))


def _escape(key: str) -> str:
    """A key as a segment of a JSON pointer in a URI fragment (RFC 6901 section 6)."""
    return quote(key.replace("~", "~0").replace("/", "~1"), safe="")


def _pointer(data: Any, pointer: str, file: str) -> Any:
    node = data
    for part in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
        part = unquote(part).replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            raise InvalidInput(f"{file}: '#{pointer}' is not in the document")
    return node

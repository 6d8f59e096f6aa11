"""``assert: {schema: FILE}`` and ``assert: {schema: {openapi: DOC, operation: ID}}``: an answer's
JSON body checked against a JSON Schema, the schema a file holds or the one an OpenAPI document
gives the operation's answer of that status (``200``, else ``2XX``, else ``default``).

Loaded when the playbook is (a missing file, a schema that is not one, an operation the document
does not have are the playbook's errors, at the assertion's line); checked with jsonschema, each
problem named by where it is in the answer (``$.data[0].id: 'x' is not of type 'integer'``).
An OpenAPI 3.0 document's schemas are its dialect of JSON Schema: ``nullable: true`` is read as
a ``null`` type, a boolean ``exclusiveMinimum`` as 2020-12's number; 3.1's are JSON Schema.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.errors import InvalidInput

DOC_URI = "urn:runner:openapi"
SHOWN = 5  # problems named in a failure; the rest are counted


@dataclass(frozen=True)
class AnswerSchema:
    """An ``assert: {schema: ...}``: the JSON Schema of each status, checked against the answer."""
    label: str  # what the report and the plan show: "schema: order.json"
    schemas: Mapping[str, Any]  # status ("200", "2XX", "default", "*") -> the JSON Schema
    registry: Any = field(default=None, compare=False)  # the OpenAPI document, for its $refs
    _validators: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def problems(self, status: int, body: Any, *, is_json: bool = True) -> list[str]:
        """What is wrong with ``body`` (an answer's decoded JSON, if ``is_json``); [] when it
        is valid."""
        from jsonschema import validators

        key = next((k for k in (str(status), f"{str(status)[:1]}XX", "default", "*")
                    if k in self.schemas), None)
        if key is None:
            listed = ", ".join(self.schemas) or "none"
            return [f"{self.label} gives no schema for HTTP {status} (it has: {listed})"]
        if not is_json:
            return [f"the answer (HTTP {status}) is not JSON"]
        validator = self._validators.get(key)
        if validator is None:  # made once per status, whatever the loop's iterations
            schema = self.schemas[key]
            cls = validators.validator_for(schema, default=validators.Draft202012Validator)
            kw = {"registry": self.registry} if self.registry is not None else {}
            validator = self._validators.setdefault(key, cls(schema, **kw))
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        out = [f"{where(e.absolute_path)}: {_short(e.message)}" for e in errors[:SHOWN]]
        if len(errors) > SHOWN:
            out.append(f"and {len(errors) - SHOWN} more")
        return out


def where(path: Any) -> str:
    """A place in a JSON document as JSONPath: ``$``, ``$.data[0].id``, ``$['a b']``."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).isidentifier():
            out += f".{part}"
        else:
            out += f"[{json.dumps(str(part))}]"
    return out


def _short(message: str) -> str:
    return message if len(message) <= 160 else message[:157] + "..."


def from_file(path: Path, shown: str) -> AnswerSchema:
    """The JSON Schema in a YAML or JSON file."""
    from jsonschema import SchemaError, validators

    schema = _read(path)
    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as e:
        raise InvalidInput(f"{shown} is not a JSON Schema: {_short(e.message)}") from None
    return AnswerSchema(f"schema: {shown}", {"*": schema})


def from_openapi(path: Path, operation: str, shown: str) -> AnswerSchema:
    """The schemas an OpenAPI document gives an operation's answers, by status."""
    import difflib

    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    from runner.openapi_doc import load_openapi

    doc = load_openapi(path)
    op = doc.operation(operation)
    if op is None:
        names = [o.name for o in doc.operations]
        close = difflib.get_close_matches(operation, names, n=1)
        raise InvalidInput(f"{shown} has no operation '{operation}'",
                           hint=(f"did you mean '{close[0]}'? " if close else "")
                           + "its operations: " + ", ".join(names))
    data = _dialect(doc.data) if doc.version.startswith("3.0") else doc.data
    registry = Registry().with_resource(DOC_URI, Resource.from_contents(
        data, default_specification=DRAFT202012))
    schemas = {a.status: {"$ref": f"{DOC_URI}#{a.pointer}"} for a in op.answers if a.pointer}
    return AnswerSchema(f"schema: {shown} {op.name}", schemas, registry)


def _read(path: Path) -> Any:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidInput(f"cannot read {path}: {e.strerror or e}") from None
    try:
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as e:
        raise InvalidInput(f"{path}: not YAML or JSON: {str(e).splitlines()[0]}") from None


def _dialect(data: Any) -> Any:
    """An OpenAPI 3.0 document's schemas as JSON Schema 2020-12 reads them."""
    data = copy.deepcopy(data)
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("nullable") is True and isinstance(node.get("type"), str):
                del node["nullable"]
                node["type"] = [node["type"], "null"]
                if isinstance(node.get("enum"), list) and None not in node["enum"]:
                    node["enum"] = [*node["enum"], None]
            for bound, limit in (("exclusiveMinimum", "minimum"),
                                 ("exclusiveMaximum", "maximum")):
                # 3.0: a flag on minimum; 2020-12: the bound itself
                if isinstance(node.get(bound), bool) and node.pop(bound) and limit in node:
                    node[bound] = node.pop(limit)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return data

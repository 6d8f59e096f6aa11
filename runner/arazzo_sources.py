"""The OpenAPI documents an Arazzo file's ``sourceDescriptions`` name: read from local files
only, and searched for the operation each step calls.

``runner import`` never fetches a URL: a source given as ``https://...`` must be downloaded by
the user and named with ``--source NAME=FILE`` (the import then reads it from there); without
it the import stops, naming the source and the option. A source of type ``arazzo`` (another
workflow document) is not followed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.arazzo_expressions import NotMapped, pointer_tokens
from runner.errors import PlaybookError
from runner.loader import Document, load_file

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Operation:
    """One OpenAPI operation: where it is sent and what its parameters are."""

    source: str
    method: str
    path: str
    parameters: dict[tuple[str, str], dict[str, Any]]  # (in, name) -> the parameter object
    body_types: tuple[str, ...]  # the requestBody's media types, in the document's order
    servers: tuple[str, ...]


@dataclass
class Sources:
    """The OpenAPI documents of one Arazzo file, by source name."""

    docs: dict[str, Document] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why it was not read

    def operation(self, written: str) -> Operation:
        """The operation an ``operationId`` names: ``opId`` (searched in every source), or
        ``$sourceDescriptions.NAME.opId``."""
        names: list[str] = list(self.docs)
        op_id = written
        if written.startswith("$sourceDescriptions."):
            name, _, op_id = written[len("$sourceDescriptions."):].partition(".")
            if name in self.skipped:
                raise NotMapped(f"operation {written}: source {name} {self.skipped[name]}")
            if name not in self.docs:
                raise NotMapped(f"operation {written}: no source named {name}")
            names = [name]
        for name in names:
            for path, item in (self.docs[name].data.get("paths") or {}).items():
                for method in METHODS:
                    op = (item or {}).get(method)
                    if isinstance(op, dict) and op.get("operationId") == op_id:
                        return _operation(self.docs[name], name, path, method, item, op)
        raise NotMapped(f"operation {written}: no operationId {op_id} in "
                        + (", ".join(names) or "any source"))

    def at_path(self, written: str) -> Operation:
        """The operation an ``operationPath`` names: ``{$sourceDescriptions.NAME.url}#/paths/
        ~1pets/get`` (a path item with one operation may leave the method out)."""
        head, _, pointer = written.partition("#")
        name = head.strip("{}").removeprefix("$sourceDescriptions.").removesuffix(".url")
        if name in self.skipped:
            raise NotMapped(f"operationPath {written}: source {name} {self.skipped[name]}")
        if name not in self.docs:
            raise NotMapped(f"operationPath {written}: no source named {name}")
        tokens = pointer_tokens(pointer)
        if len(tokens) < 2 or tokens[0] != "paths":
            raise NotMapped(f"operationPath {written}: the pointer must start with /paths/")
        item = (self.docs[name].data.get("paths") or {}).get(tokens[1])
        if not isinstance(item, dict):
            raise NotMapped(f"operationPath {written}: no path {tokens[1]} in {name}")
        methods = [tokens[2]] if len(tokens) > 2 else [m for m in METHODS if m in item]
        if len(methods) != 1 or methods[0] not in item:
            raise NotMapped(f"operationPath {written}: path {tokens[1]} has "
                            f"{len(methods)} operations; add the method to the pointer")
        return _operation(self.docs[name], name, tokens[1], methods[0], item, item[methods[0]])


def _resolve(doc: Document, value: Any) -> Any:
    """A local ``$ref`` (``#/components/parameters/x``) followed, once; others as they are."""
    if isinstance(value, dict) and isinstance(value.get("$ref"), str):
        ref = value["$ref"]
        if ref.startswith("#"):
            node: Any = doc.data
            for t in pointer_tokens(ref[1:]):
                node = node.get(t) if isinstance(node, dict) else None
            if isinstance(node, dict):
                return node
    return value


def _operation(doc: Document, source: str, path: str, method: str, item: dict[str, Any],
               op: dict[str, Any]) -> Operation:
    params: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
        p = _resolve(doc, raw)
        if isinstance(p, dict) and "name" in p and "in" in p:
            params[(p["in"], p["name"])] = p  # the operation's own win over the path item's
    body = _resolve(doc, op.get("requestBody") or {})
    servers = tuple(s["url"] for s in doc.data.get("servers") or [] if isinstance(s, dict)
                    and isinstance(s.get("url"), str))
    return Operation(source, method.upper(), path, params,
                     tuple((body.get("content") or {}) if isinstance(body, dict) else ()),
                     servers)


def read_sources(arazzo: Document, given: dict[str, str]) -> Sources:
    """Each OpenAPI source of ``arazzo``, from ``given[name]`` (``--source``) or its ``url``
    relative to the Arazzo file. A remote URL without ``--source`` stops the import."""
    out = Sources()
    entries = arazzo.data.get("sourceDescriptions") or []
    known = {e.get("name") for e in entries if isinstance(e, dict)}
    for name in given:
        if name not in known:
            raise PlaybookError(f"--source {name}: the document has no source named {name}",
                                location=arazzo.loc(("sourceDescriptions",)),
                                hint="its sources: " + (", ".join(sorted(map(str, known)))
                                                        or "none"))
    for i, entry in enumerate(entries):
        name, url = str(entry.get("name", "")), str(entry.get("url", ""))
        if entry.get("type", "openapi") != "openapi":
            out.skipped[name] = f"is of type {entry.get('type')} (only openapi sources are read)"
            continue
        if name in given:
            path = Path(given[name])
        elif "://" in url:
            raise PlaybookError(
                f"source {name} is {url}: runner import reads local files only",
                location=arazzo.loc(("sourceDescriptions", i, "url")),
                hint=f"download it and give it: --source {name}=FILE")
        else:
            path = Path(arazzo.file).parent / url
        if not path.is_file():
            raise PlaybookError(f"source {name}: {path} is not a file",
                                location=arazzo.loc(("sourceDescriptions", i, "url")),
                                hint=f"give its OpenAPI document: --source {name}=FILE")
        out.docs[name] = load_file(path, max_bytes=16 * 1024 * 1024)
        if not isinstance(out.docs[name].data, dict) or "paths" not in out.docs[name].data:
            raise PlaybookError(f"source {name}: {path} is not an OpenAPI document (no paths:)",
                                location=arazzo.loc(("sourceDescriptions", i)))
    return out

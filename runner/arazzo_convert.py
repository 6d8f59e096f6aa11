"""``runner import arazzo``: an Arazzo 1.x document as playbooks, one per workflow, and the
list of what could not be mapped.

Each workflow becomes ``<workflowId>.yaml`` in the output folder; its ``inputs`` schema the
playbook's ``inputs:``, its steps steps (runner/arazzo_steps.py), its ``outputs`` the
playbook's ``outputs:``. Each OpenAPI source becomes a connector alias ``use: http``, whose
``base_url`` comes from the environment: ``environment.yaml`` beside the playbooks names each
source's first server (edit it, or write your own; ``runner run X.yaml --env environment.yaml``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runner.arazzo_expressions import NotMapped, ident, pointer_tokens, template
from runner.arazzo_sources import Sources, read_sources
from runner.arazzo_steps import Flow, convert_step
from runner.errors import InvalidInput, PlaybookError
from runner.loader import Document, load_file

TYPES = frozenset({"string", "integer", "number", "boolean", "array", "object"})
SECRET_NAME = re.compile(r"password|secret|token|assertion|api_?key", re.I)


@dataclass
class Imported:
    """What an import wrote and what it could not map."""

    written: list[Path] = field(default_factory=list)
    not_mapped: list[str] = field(default_factory=list)
    environment: Path | None = None


def _ref(doc: Document, value: Any) -> Any:
    if isinstance(value, dict) and str(value.get("$ref", "")).startswith("#"):
        node: Any = doc.data
        for t in pointer_tokens(str(value["$ref"])[1:]):
            node = node.get(t) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else {}
    return value


def _type(schema: dict[str, Any]) -> str | None:
    kinds = schema.get("type")
    if isinstance(kinds, str) and kinds in TYPES:
        return kinds
    alternatives = schema.get("oneOf") or schema.get("anyOf") or []
    found = {a.get("type") for a in alternatives if isinstance(a, dict)}
    return found.pop() if len(found) == 1 and found <= TYPES else None


def _inputs(doc: Document, raw: Any) -> tuple[dict[str, Any], frozenset[str]]:
    schema = _ref(doc, raw)
    if not isinstance(schema, dict):
        return {}, frozenset()
    required = set(schema.get("required") or [])
    out: dict[str, Any] = {}
    optional = set()
    for name, prop in (schema.get("properties") or {}).items():
        prop = _ref(doc, prop) if isinstance(prop, dict) else {}
        entry: dict[str, Any] = {}
        kind = _type(prop)
        if kind:
            entry["type"] = kind
        if "default" in prop:
            entry["default"] = prop["default"]
        elif name not in required:
            entry["required"] = False
            optional.add(name)
        if SECRET_NAME.search(name):
            entry["secret"] = True
        text = str(prop.get("description") or "").strip().splitlines()
        if text:
            entry["description"] = text[0][:160]
        out[ident(name)] = entry
    return out, frozenset(optional)


def _playbook(doc: Document, sources: Sources, files: dict[str, str], wf: dict[str, Any],
              out: Imported) -> tuple[dict[str, Any], list[str]] | None:
    wid = str(wf.get("workflowId"))
    inputs, optional = _inputs(doc, wf.get("inputs"))
    flow = Flow(wid, sources, files, doc.data.get("components") or {}, optional,
                [p for p in wf.get("parameters") or [] if isinstance(p, dict)])
    for key in ("dependsOn", "successActions", "failureActions"):
        if wf.get(key):
            flow.skip("", f"{key} {wf[key]}: a playbook runs its own steps, in order")
    steps = [s for s in (convert_step(flow, raw) for raw in wf.get("steps") or []
                         if isinstance(raw, dict)) if s is not None]
    outputs = {}
    for name, expr in (wf.get("outputs") or {}).items():
        try:
            value = template(str(expr), **flow.kw())
        except NotMapped as e:
            flow.skip("", f"output {name}: {e} (left out)")
            continue
        if value == expr:  # a string with no expression in it
            flow.skip("", f"output {name}: {expr!r} is not a runtime expression runner knows "
                      "(left out)")
            continue
        outputs[ident(name)] = value
    out.not_mapped += flow.not_mapped
    if not steps:
        out.not_mapped.append(f"workflow {wid}: no step could be mapped, no playbook written")
        return None
    book: dict[str, Any] = {"name": str(wf.get("summary") or wid)}
    if wf.get("description"):
        book["description"] = str(wf["description"]).strip()
    if inputs:
        book["inputs"] = inputs
    book["connectors"] = {ident(s): {"use": "http"} for s in sorted(flow.aliases)}
    book["steps"] = steps
    if outputs:
        book["outputs"] = outputs
    return book, flow.not_mapped


def _header(source: Path, wid: str, not_mapped: list[str]) -> str:
    lines = [f"# Imported by `runner import arazzo` from {source.name}, workflow {wid}.",
             "# Each connector is `use: http`: its base_url comes from the environment",
             "# (environment.yaml beside this file names each OpenAPI document's first server)."]
    if not_mapped:
        lines.append("# Not mapped (edit the steps to say them):")
        lines += [f"#   - {line}" for line in not_mapped]
    return "\n".join(lines) + "\n"


def _environment(sources: Sources, aliases: set[str]) -> str:
    connectors: dict[str, Any] = {}
    for name in sorted(aliases):
        servers = sources.docs[name].data.get("servers") or []
        url = next((s.get("url") for s in servers if isinstance(s, dict)), None)
        if isinstance(url, str) and url.startswith(("http://", "https://")) and "{" not in url:
            connectors[ident(name)] = {"base_url": url}
        else:  # no server, a relative one or a templated one: the user says it
            connectors[ident(name)] = {"base_url": {"env": f"{ident(name).upper()}_URL"}}
    return ("# The APIs of the imported playbooks: each OpenAPI document's first server.\n"
            "# Edit it, or give another environment (runner run X.yaml --env FILE).\n"
            + yaml.safe_dump({"description": "written by runner import arazzo",
                              "connectors": connectors}, sort_keys=False))


def import_arazzo(file: str | Path, out_dir: str | Path, *, sources: dict[str, str],
                  force: bool = False) -> Imported:
    """Write one playbook per workflow of ``file`` into ``out_dir``; what was not mapped is
    in the result (and at the top of each playbook)."""
    doc = load_file(file, max_bytes=16 * 1024 * 1024)
    version = str((doc.data or {}).get("arazzo", "")) if isinstance(doc.data, dict) else ""
    if not version.startswith("1."):
        raise PlaybookError(f"{file} is not an Arazzo 1.x document (no 'arazzo: 1.x' at the top)",
                            location=doc.loc(("arazzo",)), show_source=False,
                            hint="runner import arazzo reads Arazzo 1.0 and 1.1 documents")
    found = read_sources(doc, sources)
    workflows = [w for w in doc.data.get("workflows") or [] if isinstance(w, dict)]
    files = {str(w.get("workflowId")): f"{w.get('workflowId')}.yaml" for w in workflows}
    target = Path(out_dir)
    result, books, aliases = Imported(), [], set()
    for wf in workflows:
        made = _playbook(doc, found, files, wf, result)
        if made:
            books.append((target / files[str(wf["workflowId"])], str(wf["workflowId"]), made))
            aliases |= {n for n in found.docs if ident(n) in made[0]["connectors"]}
    paths = [p for p, _, _ in books] + [target / "environment.yaml"]
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise InvalidInput(f"{existing[0]} exists; nothing was written",
                           hint="give another --out folder, or --force to overwrite")
    target.mkdir(parents=True, exist_ok=True)
    for path, wid, (book, skipped) in books:
        body = yaml.safe_dump(book, sort_keys=False, allow_unicode=True, width=100)
        path.write_text(_header(Path(file), wid, skipped) + body, encoding="utf-8")
        result.written.append(path)
    if aliases:
        result.environment = target / "environment.yaml"
        result.environment.write_text(_environment(found, aliases), encoding="utf-8")
    return result

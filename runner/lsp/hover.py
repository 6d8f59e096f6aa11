"""Hover: on a call, its operation through the alias (summary, the vendor doc's words, the
request, the parameters); on a parameter under ``with:``, its type and description; on an
alias's ``use:``, the connector; on ``inputs.NAME`` in a template, the input; on any other
step key, what the key does."""

from __future__ import annotations

import re
from typing import Any

from runner.connectors.spec import ConnectorSpec
from runner.loader import Document, Path_
from runner.lsp.buffer import paths_on_line
from runner.lsp.facts import Facts
from runner.lsp.words import call_markdown, param_markdown
from runner.playbook_schema import step_properties

_NAME = re.compile(r"[A-Za-z0-9_.]+")


def hover(doc: Document, facts: Facts, lines: list[str], line: int, col: int) -> str | None:
    text = lines[line] if line < len(lines) else ""
    word = next((m.group(0) for m in _NAME.finditer(text) if m.start() <= col <= m.end()), "")
    if word.startswith("inputs.") and word.count(".") == 1:
        raw = facts.inputs().get(word.split(".")[1])
        if raw is not None:
            about = f"**{word}** ({raw.get('type', 'string')}" + \
                (", secret" if raw.get("secret") else "") + ")"
            return about + (f"\n\n{raw['description']}" if raw.get("description") else "")
    for path in paths_on_line(doc, line):
        found = _about(path, facts)
        if found is not None:
            return found
    return None


def _about(path: Path_, facts: Facts) -> str | None:
    if path[:1] == ("connectors",) and len(path) in (2, 3):
        spec = facts.specs.get(str(path[1]))
        return _connector(spec) if spec is not None else None
    found = facts.step_of(path)
    if found is None:
        return None
    step, where = found
    rest = path[len(where):]
    if rest == ("call",):
        op = facts.operation(step.get("call"))
        if op is not None:
            return call_markdown(*op)
        spec = facts.specs.get(str(step.get("call", "")).partition(".")[0])
        return _connector(spec) if spec is not None else None
    if len(rest) == 2 and rest[0] == "with":
        op = facts.operation(step.get("call"))
        param = op[2].params.get(str(rest[1])) if op is not None else None
        return param_markdown(param) if param is not None else None
    if len(rest) == 1:
        schema: Any = step_properties().get(str(rest[0]))
        if isinstance(schema, dict) and schema.get("description"):
            return f"**{rest[0]}**: {schema['description']}"
    return None


def _connector(spec: ConnectorSpec) -> str:
    lines = [f"**{spec.name}** — {spec.title}", ""]
    if spec.description:
        lines += [spec.description, ""]
    lines += [f"- `{name}`: {op.summary}" if op.summary else f"- `{name}`"
              for name, op in spec.operations.items()]
    return "\n".join(lines)

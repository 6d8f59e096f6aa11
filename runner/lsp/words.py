"""What an editor shows of an operation and of a parameter (hover, completion's details):
the connector file's words, the summary and the vendor doc's ``description``, as Markdown."""

from __future__ import annotations

from runner.connectors.spec import ConnectorSpec, Operation, Param


def call_markdown(alias: str, spec: ConnectorSpec, op: Operation) -> str:
    through = f" (alias of `{spec.name}`)" if alias != spec.name else ""
    lines = [f"**{alias}.{op.name}**{through} — {spec.title}", ""]
    if op.summary:
        lines += [op.summary, ""]
    if op.description:
        lines += ["> " + line for line in op.description.strip().splitlines()] + [""]
    safe = "safe to repeat" if op.safe else "not safe to repeat: journaled, never re-sent"
    lines += [f"`{op.method} {op.path}` · {safe}", ""]
    if op.params:
        lines.append("Parameters (`with:`):")
        for p in sorted(op.params.values(), key=lambda p: (not p.required, p.name)):
            lines.append(f"- `{p.name}` {param_detail(p)}" +
                         (f": {p.description}" if p.description else ""))
    else:
        lines.append("No parameters.")
    return "\n".join(lines).rstrip()


def param_detail(p: Param) -> str:
    out = p.type
    if p.required and not p.has_default:
        out += ", required"
    elif p.has_default:
        out += f", default {p.default!r}"
    if p.enum:
        out += ", one of " + ", ".join(map(repr, p.enum))
    if p.secret:
        out += ", secret: {{ secrets.NAME }}, never a literal"
    return out


def param_markdown(p: Param) -> str:
    text = f"**{p.name}** ({param_detail(p)})"
    return text + (f"\n\n{p.description}" if p.description else "")

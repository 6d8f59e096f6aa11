"""A plan, or a plan's diff, as Markdown: the comment a CI job posts on a pull request
(``runner plan --format markdown``, with ``--diff REV`` too).

GitHub-flavoured: a heading, a table of the requests in order (a table a reviewer can scan:
step, request, parameters, when it runs, whether it is safe to repeat, unsafe ones marked), the
inputs used, and the whole text plan folded in a ``<details>`` block. Every value goes in a code
span (a placeholder ``<name>`` is no HTML tag there), pipes escaped for the table, long values
cut; every other text is escaped. The plan was redacted before it came here.
"""

from __future__ import annotations

import re

from runner.plan_diff import ADDED, ALTERED, REMOVED, UNSAFE_MARK, PlanDiff, described, head
from runner.plan_model import Plan, Request
from runner.plan_text import text_lines

LONGEST = 200  # characters of one value in a table cell
PLACEHOLDERS = ("Values shown as `<name>` are known only when the playbook runs; "
                "secrets show as `***`. Nothing was sent.")
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def text(value: str) -> str:
    """Plain text, with every character Markdown (or HTML) would read escaped."""
    return _SPECIAL.sub(r"\\\1", " ".join(value.split()))


def code(value: str, cut: int = LONGEST) -> str:
    """A value as a code span in a table cell: one line, pipes escaped, cut at ``cut``."""
    value = " ".join(value.split())
    if len(value) > cut:
        value = value[:cut - 1] + "…"
    fence = "`" * (max((len(run) for run in re.findall("`+", value)), default=0) + 1)
    if fence != "`" or value.startswith(" ") or value.endswith(" "):
        value = f" {value} "
    return fence + value.replace("|", "\\|") + fence


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _details(summary: str, lines: list[str]) -> list[str]:
    body = "\n".join(lines)
    fence = "`" * max(3, max((len(r) for r in re.findall("`+", body)), default=0) + 1)
    return ["<details>", f"<summary>{summary}</summary>", "", f"{fence}text", *lines, fence,
            "", "</details>"]


def _parameters(request: Request) -> str:
    if request.pending:
        return f"*rendered at run time: {text(request.pending)}*"
    cells = [code(f"{k}={v}") for k, v in request.query.items() if v is not None]
    cells += [code(f"{k}: {v}") for k, v in request.headers.items()]
    cells += [code(f"{k}: {v}") for k, v in _bodies(request)]
    return "<br>".join(cells) or "—"


def _bodies(request: Request) -> list[tuple[str, str]]:
    import json

    return [(k, json.dumps(v, ensure_ascii=False)) for k, v in request.bodies.items()]


def _runs(request: Request) -> str:
    parts = [f"when {code(w)}" for w in request.when]
    parts += [f"for each of {code(loop)}" for loop in request.loops]
    if request.final:
        parts.append("always (finally)")
    return "<br>".join(parts) or "—"


def _safe(request: Request) -> str:
    return "yes" if request.safe else f"**{UNSAFE_MARK}**"


def markdown_lines(plan: Plan) -> list[str]:
    requests = plan.requests()
    out = [f"### runner plan: {text(plan.name)}", "",
           f"{code(plan.file)} · environment {code(plan.env)} · "
           f"{len(requests)} request{'s' if len(requests) != 1 else ''}"
           + (f", {sum(not r.safe for r in requests)} not safe to repeat"
              if any(not r.safe for r in requests) else ""), ""]
    if requests:
        out += [_row(["#", "step", "request", "parameters", "runs", "safe to repeat"]),
                "|---:|---|---|---|---|---|"]
        out += [_row([str(n), code(r.key), code(f"{r.target} {head(r)}"), _parameters(r),
                      _runs(r), _safe(r)]) for n, r in enumerate(requests, 1)]
    else:
        out.append("*No request is sent.*")
    out += ["", PLACEHOLDERS, *_inputs(plan), "",
            *_details("The whole plan", text_lines(plan))]
    return out


def _inputs(plan: Plan) -> list[str]:
    if not plan.inputs:
        return []
    return ["", "**Inputs**", "", _row(["input", "value", ""]), "|---|---|---|",
            *(_row([code(i.name), code(i.value), i.source]) for i in plan.inputs)]


def diff_markdown_lines(diff: PlanDiff, file: str) -> list[str]:
    counts = diff.counts()
    against = f"{code(diff.rev)} ({code(diff.commit)})"
    if diff.old is None:
        against += f", which has no {code(file)}"
    out = [f"### runner plan --diff {text(diff.rev)}: {text(diff.new.name)}", "",
           f"{code(file)} at {against} → this change · environment {code(diff.new.env)}", ""]
    if not diff.changes:
        out.append(f"**No request changed** ({diff.unchanged} unchanged).")
    else:
        unsafe = sum(c.unsafe for c in diff.changes)
        out.append(f"**{counts[ADDED]} added, {counts[REMOVED]} removed, {counts[ALTERED]} "
                   f"altered**, {diff.unchanged} unchanged"
                   + (f" · {unsafe} of the changed not safe to repeat" if unsafe else ""))
        out += ["", _row(["change", "step", "request", "what", "safe to repeat"]),
                "|---|---|---|---|---|"]
        for change in diff.changes:
            request = change.request
            what = [code(f"{name}: {value}") for name, value in described(change)]
            label = {ADDED: "added", REMOVED: "removed", ALTERED: "altered"}[change.kind]
            out.append(_row([f"**{label}**", code(change.key),
                             code(f"{request.target} {head(request)}"),
                             "<br>".join(what) or "—", _safe(request)]))
    out += ["", PLACEHOLDERS, "",
            *_details("The whole plan after this change", text_lines(diff.new))]
    return out

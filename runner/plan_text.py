"""A plan as ``runner plan`` prints it: one line per step, the request under it with its URL
and bodies, what a run would repeat or wait for, then its extractions and assertions."""

from __future__ import annotations

import json

from runner.plan_model import Note, Plan, Request, Step
from runner.report import describe_request

UNSAFE = "not safe to repeat: never retried after it may have arrived"


def text_lines(plan: Plan) -> list[str]:
    out = [f"plan · {plan.name} ({plan.file}) · env {plan.env} · nothing is sent"]
    for step in plan.steps:
        out += step_lines(step)
    if plan.finally_steps:
        out.append("finally (always runs):")
        for step in plan.finally_steps:
            out += step_lines(step)
    return out


def step_lines(step: Step) -> list[str]:
    head = f"{step.indent}- {step.id}: {step.target}"
    if step.when is not None:
        head += f"  (when: {step.when})"
    if step.loop is not None:
        head += f"  (loop over {step.loop} as {step.loop_var})"
    out = [head]
    for entry in step.entries:
        if isinstance(entry, Note):
            out.append(entry.text)
        elif isinstance(entry, Request):
            out += request_lines(entry)
        else:
            out += step_lines(entry)
    pad = step.indent + "    "
    out += [f"{pad}extract {name} <- {kind} {expr}" for name, kind, expr in step.extracts]
    out += [f"{pad}assert {that}" for that in step.asserts]
    return out


def request_lines(request: Request) -> list[str]:
    pad = request.pad
    if request.pending:
        return [f"{pad}(rendered at run time: {request.pending})"]
    line = describe_request({"method": request.method, "url": request.url,
                             "query": request.query})
    out = [f"{pad}{line}   [{request.url}]"]
    for key, value in request.bodies.items():  # a file shows as <N bytes from FILE>
        out.append(f"{pad}{key}: {json.dumps(value, ensure_ascii=False)}")
    if not request.safe:
        out.append(f"{pad}{UNSAFE}")
    return out

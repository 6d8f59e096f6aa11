"""One Arazzo step as one playbook step: an operation as a raw call on the source's connector
(`use: http`), a workflow as an ``include:`` of that workflow's playbook.

- ``parameters`` go to the path (``{name}`` filled in), ``query:``, ``headers:`` (a cookie
  parameter joins a ``Cookie`` header), or, on a workflow step, the include's ``with:``;
- ``requestBody`` to ``json:``, ``form:`` or ``body:`` by its media type;
- ``successCriteria`` of the simple kind to ``assert:`` (a 3xx status asked for turns
  redirects off for the call, a 4xx or 5xx makes it ``allow-error``);
- ``outputs`` to ``extract:`` (``$response.body#/p`` as JSONPath, a header, the status);
- an ``onFailure`` retry of a safe call to a ``poll-until`` of its criteria.

Everything else is said, not guessed: :class:`Flow` collects it for the import's report.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from runner.arazzo_expressions import (
    NotMapped,
    condition,
    extraction,
    ident,
    pointer_tokens,
    template,
)
from runner.arazzo_sources import Operation, Sources

SAFE = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_STATUS = re.compile(r"\$statusCode\s*==\s*(\d{3})")


@dataclass
class Flow:
    """One workflow being converted: what its steps left (for ``$steps`` references), the
    other workflows' files, and what could not be mapped."""

    workflow_id: str
    sources: Sources
    files: dict[str, str]  # workflowId -> the playbook file it becomes
    components: dict[str, Any]
    optional: frozenset[str] = frozenset()  # inputs the workflow does not require
    parameters: list[dict[str, Any]] = field(default_factory=list)  # the workflow's own
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)  # stepId -> out -> Jinja
    not_mapped: list[str] = field(default_factory=list)
    aliases: set[str] = field(default_factory=set)

    def skip(self, where: str, reason: str) -> None:
        self.not_mapped.append(f"workflow {self.workflow_id}{where}: {reason}")

    def output_ref(self, step_id: str, name: str) -> str:
        if step_id not in self.outputs:
            raise NotMapped(f"$steps.{step_id}.outputs.{name}: no earlier step {step_id}")
        if name not in self.outputs[step_id]:
            raise NotMapped(f"$steps.{step_id}.outputs.{name}: step {step_id} has no output "
                            f"{name}")
        return self.outputs[step_id][name]

    def kw(self, **more: Any) -> dict[str, Any]:
        return {"output_ref": self.output_ref, "optional": self.optional, **more}


def convert_step(flow: Flow, raw: dict[str, Any]) -> dict[str, Any] | None:
    """The playbook step for ``raw``, or None (what it could not say is in ``flow``)."""
    sid = str(raw.get("stepId", ""))
    at = f" step {sid}"
    try:
        if "workflowId" in raw:
            return _include(flow, raw, sid, at)
        op = (flow.sources.operation(str(raw["operationId"])) if "operationId" in raw
              else flow.sources.at_path(str(raw["operationPath"])))
    except NotMapped as e:
        flow.skip(at, f"{e} (the step is left out)")
        return None
    except KeyError:
        flow.skip(at, "no operationId, operationPath or workflowId (the step is left out)")
        return None
    return _call(flow, raw, sid, at, op)


def _name(raw: dict[str, Any]) -> dict[str, str]:
    text = str(raw.get("description") or "").strip().splitlines()
    return {"name": text[0][:120]} if text else {}


def _parameters(flow: Flow, raw: dict[str, Any], at: str) -> list[dict[str, Any]]:
    """The step's parameters after the workflow's (the step's win), references resolved."""
    merged: dict[tuple[Any, Any], dict[str, Any]] = {}
    for p in [*flow.parameters, *(raw.get("parameters") or [])]:
        if isinstance(p, dict) and "reference" in p:
            ref = str(p["reference"])
            name = ref.removeprefix("$components.parameters.")
            found = (flow.components.get("parameters") or {}).get(name)
            if name == ref or not isinstance(found, dict):
                flow.skip(at, f"parameter reference {ref}: not in components.parameters")
                continue
            p = {**found, **({"value": p["value"]} if "value" in p else {})}
        if isinstance(p, dict) and "name" in p:
            merged[(p.get("in"), p["name"])] = p
    return list(merged.values())


def _call(flow: Flow, raw: dict[str, Any], sid: str, at: str, op: Operation) -> dict[str, Any]:
    alias = ident(op.source)
    flow.aliases.add(op.source)
    step: dict[str, Any] = {"id": ident(sid), **_name(raw), "call": alias, "method": op.method}
    path, query, headers, cookies = op.path, {}, {}, []
    for p in _parameters(flow, raw, at):
        where = p.get("in") or _where(op, str(p["name"]))
        try:
            value = template(p.get("value"), **flow.kw())
        except NotMapped as e:
            flow.skip(at, f"parameter {p['name']}: {e} (left out)")
            continue
        if where == "path":
            text = value if isinstance(value, str) else json.dumps(value)
            path = path.replace("{" + str(p["name"]) + "}", text)
        elif where == "query":
            query[str(p["name"])] = value
        elif where == "header":
            headers[str(p["name"])] = value if isinstance(value, str) else json.dumps(value)
        elif where == "cookie":
            cookies.append(f"{p['name']}={value}")
        else:
            flow.skip(at, f"parameter {p['name']}: no 'in' and not a parameter of "
                      f"{op.method} {op.path} (left out)")
    if cookies:
        headers["Cookie"] = "; ".join(cookies)
    for unfilled in re.findall(r"\{([^{}]+)\}", re.sub(r"\{\{.*?\}\}", "", path)):
        flow.skip(at, f"path parameter {unfilled} of {op.method} {op.path} is given no value "
                  "(it is sent as written)")
    step["path"] = path
    if query:
        step["query"] = query
    if headers:
        step["headers"] = headers
    if "requestBody" in raw:
        step.update(_body(flow, raw["requestBody"], op, at))
    criteria = _criteria(flow, raw.get("successCriteria") or [], at)
    statuses = {int(s) for c in raw.get("successCriteria") or [] if isinstance(c, dict)
                for s in _STATUS.findall(str(c.get("condition", "")))}
    if any(300 <= s < 400 for s in statuses):
        step["follow-redirects"] = False
    if any(s >= 400 for s in statuses):
        step["allow-error"] = True
    extract = _extract(flow, raw, sid, at)
    retry = _actions(flow, raw, at, op)
    if retry and criteria:  # a safe call tried again until its criteria hold
        step = {"id": step["id"], **_name(raw),
                "poll-until": " and ".join(f"({c['that']})" for c in criteria),
                **{k: v for k, v in step.items() if k not in ("id", "name")},
                "every": f"{retry[0]}s", "max-attempts": retry[1] + 1}
    elif criteria:
        step["assert"] = criteria
    if retry and not criteria:
        flow.skip(at, "onFailure retry: the step has no simple successCriteria to try again for")
    if extract:
        step["extract"] = extract
    return step


def _where(op: Operation, name: str) -> str | None:
    found = [where for (where, n) in op.parameters if n == name]
    return found[0] if len(found) == 1 else None


def _body(flow: Flow, body: dict[str, Any], op: Operation, at: str) -> dict[str, Any]:
    media = str(body.get("contentType") or (op.body_types[0] if op.body_types
                                            else "application/json"))
    payload = body.get("payload")
    if isinstance(payload, str) and "json" in media:
        try:
            payload = json.loads(payload)  # a JSON text whose strings hold {$...}
        except ValueError:
            pass
    for r in body.get("replacements") or []:
        try:
            payload = _replace(payload, str(r["target"]), r.get("value"))
        except (NotMapped, KeyError, TypeError) as e:
            flow.skip(at, f"requestBody replacement {r}: {e} (left out)")
    try:
        value = template(payload, **flow.kw())
    except NotMapped as e:
        flow.skip(at, f"requestBody: {e} (the body is left out)")
        return {}
    if "json" in media:
        return {"json": value}
    if "x-www-form-urlencoded" in media and isinstance(value, dict):
        return {"form": value}
    if isinstance(value, str):
        return {"body": value, "headers": {"Content-Type": media}}
    flow.skip(at, f"requestBody of {media}: a structured payload for a media type that is "
              "not JSON or a form (the body is left out)")
    return {}


def _replace(payload: Any, target: str, value: Any) -> Any:
    tokens = pointer_tokens(target.lstrip("#"))
    if not tokens or not isinstance(payload, (dict, list)):
        raise NotMapped("the target must be a JSON pointer into a JSON payload")
    node = payload
    for t in tokens[:-1]:
        node = node[int(t)] if isinstance(node, list) else node[t]
    if isinstance(node, list):
        node[int(tokens[-1])] = value
    else:
        node[tokens[-1]] = value
    return payload


def _criteria(flow: Flow, criteria: list[Any], at: str) -> list[dict[str, str]]:
    out = []
    for c in criteria:
        written = c.get("type", "simple") if isinstance(c, dict) else "?"
        # a type may be an expression type object: {type: jsonpath, version: ...}
        kind = str(written.get("type", "?") if isinstance(written, dict) else written)
        if kind != "simple" or "context" in c:
            flow.skip(at, f"successCriteria {c.get('condition')!r} of type {kind}: only simple "
                      "conditions become asserts (left out)")
            continue
        try:
            that = condition(str(c["condition"]), **flow.kw())
        except NotMapped as e:
            flow.skip(at, f"successCriteria: {e} (left out)")
            continue
        out.append({"that": that, "message": f"Arazzo successCriteria: {c['condition']}"})
    return out


def _extract(flow: Flow, raw: dict[str, Any], sid: str, at: str) -> dict[str, Any]:
    flow.outputs[sid] = {}
    out = {}
    for name, expr in (raw.get("outputs") or {}).items():
        try:
            out[ident(name)] = extraction(str(expr))
        except NotMapped as e:
            flow.skip(at, f"{e} (left out)")
            continue
        flow.outputs[sid][name] = f"steps.{ident(sid)}.{ident(name)}"
    return out


def _actions(flow: Flow, raw: dict[str, Any], at: str, op: Operation) -> tuple[float, int] | None:
    """An ``onFailure`` retry of a safe call: (seconds between tries, tries again); every
    other action is reported."""
    retry = None
    for kind in ("onSuccess", "onFailure"):
        for a in raw.get(kind) or []:
            if isinstance(a, dict) and "reference" in a:
                ref = str(a["reference"])
                group, _, name = ref.removeprefix("$components.").partition(".")
                a = (flow.components.get(group) or {}).get(name) or {"type": f"reference {ref}"}
            what = f"{kind} action {a.get('name', '')!s} ({a.get('type')})"
            if a.get("type") == "retry" and kind == "onFailure" and not a.get("criteria"):
                if op.method not in SAFE:
                    flow.skip(at, f"{what}: a {op.method} is not safe to send twice, and runner "
                              "never sends a non-safe call again")
                    continue
                retry = (float(a.get("retryAfter", 5)), int(a.get("retryLimit", 1)))
                continue
            target = a.get("stepId") or a.get("workflowId")
            flow.skip(at, f"{what}{' to ' + str(target) if target else ''}: a playbook runs its "
                      "steps in order and stops at the first failure")
    return retry


def _include(flow: Flow, raw: dict[str, Any], sid: str, at: str) -> dict[str, Any] | None:
    wid = str(raw["workflowId"])
    if wid not in flow.files:
        flow.skip(at, f"workflow {wid} is not a workflow of this document (the step is left "
                  "out)")
        return None
    given = {}
    for p in _parameters(flow, raw, at):
        try:
            given[ident(str(p["name"]))] = template(p.get("value"), **flow.kw())
        except NotMapped as e:
            flow.skip(at, f"parameter {p['name']}: {e} (left out)")
    for c in raw.get("successCriteria") or []:
        flow.skip(at, f"successCriteria {c.get('condition')!r} on a workflow step: an included "
                  "playbook passes or fails as a whole (left out)")
    flow.outputs[sid] = {}
    for name, expr in (raw.get("outputs") or {}).items():
        m = re.fullmatch(r"\$outputs\.([A-Za-z0-9_.\-]+)", str(expr).strip())
        if m:
            flow.outputs[sid][name] = f"{ident(sid)}.{ident(m.group(1))}"
        else:
            flow.skip(at, f"output {name}: {expr} (on a workflow step, only $outputs.NAME of "
                      "that workflow)")
    step: dict[str, Any] = {"id": ident(sid), **_name(raw), "include": flow.files[wid]}
    if given:
        step["with"] = given
    return step

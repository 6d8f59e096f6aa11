"""``runner plan``: render what can be rendered of a playbook and build its plan — the steps and
the requests a run would send — without sending anything.

Values only known at run time (extracted values, the last response, tokens) show as
``<name>``; secrets show as ``***``; a sandbox environment shows ``<sandbox:name>`` base URLs
instead of starting simulators.

The plan is data (:mod:`runner.plan_model`), built here once: the kinds' ``plan`` functions
write to it through the ``Planner`` Protocol (``line``, ``request``, ``nested``), the head,
extractions and assertions of each step are written here, and the whole is put through the
run's redactor at the end (a secret learnt late, from a later step's template, is masked in
the earlier lines too). The text, the Markdown and the diff are renderings of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from runner.connectors import registry
from runner.connectors.client import ConnectorClient
from runner.connectors.sessions import NO_INPUTS, connect_for_plan
from runner.connectors.spec import ConnectorSpec, safe_by_verb
from runner.environment import Environment
from runner.errors import RunnerError
from runner.inputs import coerce_inputs, register_secret_inputs, secret_inputs
from runner.model import ConnectorRef, Playbook
from runner.model import Step as PlaybookStep
from runner.plan_model import Input, Note, Plan, Request, Step, masked, readable_path, shown
from runner.secrets import MASK, Redactor
from runner.steps import KINDS
from runner.steps.call_spec import CallSpec
from runner.steps.runtime import Scope
from runner.steps.sending import build_call
from runner.templating import SECRET_INPUTS, Renderer

BODY_KEYS = ("json", "form", "body", "multipart", "save_to", "follow_redirects")


class Unknown(str):
    """A value known only at run time; attribute and item access stay unknown."""

    is_placeholder = True

    def __new__(cls, name: str) -> Unknown:
        return super().__new__(cls, f"<{name}>")

    @property
    def _name(self) -> str:
        return str.__str__(self)[1:-1]

    def __getattr__(self, attr: str) -> Unknown:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return Unknown(f"{self._name}.{attr}")

    def __getitem__(self, key: Any) -> Unknown:  # type: ignore[override,unused-ignore]
        return Unknown(f"{self._name}[{key!r}]")


class _Scope(dict[str, Any]):
    def __missing__(self, key: str) -> Unknown:
        return Unknown(key)


class _Secrets(_Scope):
    def __missing__(self, key: str) -> Any:
        return MASK


class _PlanRuntime:
    """``runner plan``'s side of a step: what a kind's ``plan`` writes to
    (``runner.steps.kind.Planner``), and enough of a run to prepare its calls."""

    def __init__(self, env: Environment, redactor: Redactor):
        self.env = env
        self.setting_scope: Mapping[str, Any] = NO_INPUTS  # what setting templates read
        self.redactor = redactor
        self.renderer = Renderer(on_secret=redactor.add)
        self.clients: dict[str, ConnectorClient] = {}
        self.refs: dict[str, ConnectorRef] = {}
        self.open: list[Step] = []  # the steps being planned, the outermost first
        self.final = False  # planning the finally steps

    def line(self, text: str) -> None:
        self.open[-1].entries.append(Note(text))

    def client(self, alias: str) -> ConnectorClient:
        if alias not in self.clients:
            self.clients[alias] = connect_for_plan(self.refs[alias], self.env, self.redactor,
                                                   Unknown, self.setting_scope)
        return self.clients[alias]

    def connector(self, alias: str) -> ConnectorSpec:
        return registry.get(self.refs[alias].use)

    def unknown(self, name: str) -> Unknown:
        return Unknown(name)

    def request(self, call: CallSpec, step: PlaybookStep, scope: Scope, pad: str) -> None:
        local = _Scope(scope)
        if step.loop is not None:
            local[step.loop_var] = Unknown(step.loop_var)
        self.client(call.connector)  # a connector set up wrong (its base URL) stops the plan
        node = self.open[-1]
        count = 1 + sum(isinstance(e, Request) for e in node.entries)
        request = Request(
            key=node.key + (f"#{count}" if count > 1 else ""), pad=pad, location=node.location,
            target=f"{call.connector}.{call.operation}" if call.operation else call.connector,
            method="", path="", status=call.status, final=self.final,
            when=tuple(s.when for s in self.open if s.when is not None),
            loops=tuple(s.loop for s in self.open if s.loop is not None))
        try:
            prepared = build_call(self, call, local)
            record = prepared.record(self.redactor.redact)
            request.method, request.url = record["method"], record["url"]
            request.path = readable_path(urlsplit(record["url"]).path)
            request.query = record.get("query", {})
            request.headers = record.get("headers", {})
            request.bodies = {k.replace("_", "-"): record[k] for k in BODY_KEYS if k in record}
            request.safe = prepared.safe
        except RunnerError as e:
            request.pending = e.message
            request.method, request.path, request.safe = self._written(call)
        node.entries.append(request)

    def _written(self, call: CallSpec) -> tuple[str, str, bool]:
        """The method, path and safety of a call as written, for one that renders only at
        run time."""
        if call.operation:
            op = self.connector(call.connector).operations[call.operation]
            return op.method, op.path, op.safe
        method = str(call.method or "").upper()
        return method, str(call.path or ""), (safe_by_verb(method) if call.safe is None
                                              else call.safe)

    def nested(self, sub: Playbook, scope: Scope, pad: str) -> None:
        sub_scope = _Scope(inputs=_Scope(), steps=_Scope(), secrets=scope["secrets"], run=_Scope())
        _plan_steps(sub, self, sub_scope, pad, self.open[-1].entries)


def build_plan(playbook: Playbook, env: Environment, inputs: Mapping[str, Any],
               redactor: Redactor) -> Plan:
    """The plan of ``playbook`` in ``env`` with ``inputs``, every string in it redacted by
    ``redactor`` (which learns the secrets met on the way)."""
    rt = _PlanRuntime(env, redactor)
    given = dict(inputs)
    for name, spec in playbook.inputs.items():
        if name not in given and not spec.has_default:
            given[name] = Unknown(f"input:{name}")
    values = coerce_inputs(playbook, given)
    register_secret_inputs(playbook, {k: v for k, v in values.items()
                                      if not isinstance(v, Unknown)}, redactor)
    scope = _Scope(inputs=values, steps=_Scope(), secrets=_Secrets(), run=_Scope())
    scope[SECRET_INPUTS] = secret_inputs(playbook)
    rt.setting_scope = {"inputs": values, SECRET_INPUTS: scope[SECRET_INPUTS]}

    plan = Plan(name=playbook.name, file=playbook.file, env=env.name)
    for name, spec in playbook.inputs.items():
        value = values.get(name, given.get(name))
        source = ("not given" if isinstance(value, Unknown) else
                  "given" if name in inputs else "default")
        plan.inputs.append(Input(name, MASK if spec.secret and source != "not given"
                                 else shown(value), source))
    _plan_steps(playbook, rt, scope, "", plan.steps)
    rt.final = True
    _plan_steps(playbook, rt, scope, "", plan.finally_steps, finals=True)
    return masked(plan, redactor.redact)


def _plan_steps(playbook: Playbook, rt: _PlanRuntime, scope: Scope, indent: str,
                into: list[Any], finals: bool = False) -> None:
    for alias, ref in playbook.connectors.items():  # the first declaration is used, as in a
        rt.refs.setdefault(alias, ref)                # run (an include's own is not)
    parent = rt.open[-1].key + "/" if rt.open else ""
    seen: Counter[str] = Counter()
    for step in playbook.finally_steps if finals else playbook.steps:
        own = _own_key(step, finals)
        seen[own] += 1
        key = parent + own + (f"#{seen[own]}" if seen[own] > 1 else "")
        into.append(_plan_step(step, rt, scope, indent, key))


def _own_key(step: PlaybookStep, final: bool) -> str:
    """What matches a step to itself in another revision: its id; for a step without one
    (``step3``, from its position), its name or what it calls, which moving it keeps."""
    auto = f"{'finally' if final else 'step'}{step.index + 1}"
    if step.id != auto or step.label.endswith(f"'{step.id}'"):
        return step.id
    return step.name or step.target


def _plan_step(step: PlaybookStep, rt: _PlanRuntime, scope: Scope, indent: str,
               key: str) -> Step:
    node = Step(key=key, id=step.id, target=step.target, indent=indent,
                location=f"{step.location.file}:{step.location.line}",
                when=None if step.when is None else str(step.when),
                loop=None if step.loop is None else str(step.loop), loop_var=step.loop_var)
    rt.open.append(node)
    try:
        KINDS[step.kind].plan(rt, step, scope, indent + "    ")
    finally:
        rt.open.pop()
    for name, ex in step.extract:
        node.extracts.append((name, ex.kind, ex.expr))
        scope[name] = Unknown(name)
    node.asserts.extend(a.that for a in step.asserts)
    if step.undo:  # what runs, the last step first, when a later step fails
        node.entries.append(Note(f"{indent}    undo, if a later step fails:"))
        local = _Scope(scope)
        local["response"] = Unknown("response")
        for j, undo in enumerate(step.undo):
            node.entries.append(_plan_step(undo, rt, local, indent + "      ",
                                           f"{key}/undo{j + 1}"))
    return node

"""``runner plan``: render what can be rendered and print the requests a run would send.

Nothing is sent. Values only known at run time (extracted values, the last response, tokens)
print as ``<name>``; secrets print as ``***``; a sandbox environment shows ``<sandbox:name>``
base URLs instead of starting simulators.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from runner.connectors import registry
from runner.connectors.client import ConnectorClient
from runner.connectors.sessions import NO_INPUTS, connect_for_plan
from runner.connectors.spec import ConnectorSpec
from runner.environment import Environment
from runner.errors import RunnerError
from runner.inputs import coerce_inputs, register_secret_inputs, secret_inputs
from runner.model import ConnectorRef, Playbook, Step
from runner.report import describe_request
from runner.secrets import Redactor
from runner.steps import KINDS
from runner.steps.call_spec import CallSpec
from runner.steps.kind import Planner
from runner.steps.runtime import Scope
from runner.steps.sending import build_call
from runner.templating import SECRET_INPUTS, Renderer


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


class _PlanRuntime:
    """``runner plan``'s side of a step: what a kind's ``plan`` prints with
    (``runner.steps.kind.Planner``), and enough of a run to prepare its calls."""

    def __init__(self, env: Environment, redactor: Redactor, out: IO[str]):
        self.env = env
        self.setting_scope: Mapping[str, Any] = NO_INPUTS  # what setting templates read
        self.redactor = redactor
        self.renderer = Renderer(on_secret=redactor.add)
        self.clients: dict[str, ConnectorClient] = {}
        self.refs: dict[str, ConnectorRef] = {}
        self.out = out

    def line(self, text: str) -> None:
        self.out.write(self.redactor.redact(text) + "\n")

    def client(self, alias: str) -> ConnectorClient:
        if alias not in self.clients:
            self.clients[alias] = connect_for_plan(self.refs[alias], self.env, self.redactor,
                                                   Unknown, self.setting_scope)
        return self.clients[alias]

    def connector(self, alias: str) -> ConnectorSpec:
        return registry.get(self.refs[alias].use)

    def unknown(self, name: str) -> Unknown:
        return Unknown(name)

    def request(self, call: CallSpec, step: Step, scope: Scope, pad: str) -> None:
        local = _Scope(scope)
        if step.loop is not None:
            local[step.loop_var] = Unknown(step.loop_var)
        self.client(call.connector)  # a connector set up wrong (its base URL) stops the plan
        try:
            prepared = build_call(self, call, local)
            record = prepared.record(self.redactor.redact)
            self.line(f"{pad}{describe_request(record)}   [{prepared.url}]")
            if "json" in record:
                self.line(f"{pad}json: {json.dumps(record['json'], ensure_ascii=False)}")
            if "form" in record:
                self.line(f"{pad}form: {json.dumps(record['form'], ensure_ascii=False)}")
            for key in ("body", "multipart", "save_to", "follow_redirects"):
                if key in record:  # a file shows as <N bytes from FILE>, never its bytes
                    self.line(f"{pad}{key.replace('_', '-')}: "
                              f"{json.dumps(record[key], ensure_ascii=False)}")
            if not prepared.safe:
                self.line(f"{pad}not safe to repeat: never retried after it may have arrived")
        except RunnerError as e:
            self.line(f"{pad}(rendered at run time: {e.message})")

    def nested(self, sub: Playbook, scope: Scope, pad: str) -> None:
        sub_scope = _Scope(inputs=_Scope(), steps=_Scope(), secrets=scope["secrets"], run=_Scope())
        _plan_steps(sub, self, sub_scope, pad)


def print_plan(playbook: Playbook, env: Environment, inputs: Mapping[str, Any],
               out: IO[str]) -> None:
    redactor = Redactor()
    rt = _PlanRuntime(env, redactor, out)
    given = dict(inputs)
    for name, spec in playbook.inputs.items():
        if name not in given and not spec.has_default:
            given[name] = Unknown(f"input:{name}")
    values = coerce_inputs(playbook, given)
    register_secret_inputs(playbook, {k: v for k, v in values.items()
                                      if not isinstance(v, Unknown)}, redactor)
    secrets = _Scope()
    secrets.__class__ = type("_Secrets", (_Scope,), {"__missing__": lambda s, k: "***"})
    scope = _Scope(inputs=values, steps=_Scope(), secrets=secrets, run=_Scope())
    scope[SECRET_INPUTS] = secret_inputs(playbook)
    rt.setting_scope = {"inputs": values, SECRET_INPUTS: scope[SECRET_INPUTS]}

    rt.line(f"plan · {playbook.name} ({playbook.file}) · env {env.name} · nothing is sent")
    _plan_steps(playbook, rt, scope, "")
    if playbook.finally_steps:
        rt.line("finally (always runs):")
        _plan_steps(playbook, rt, scope, "", finals=True)


def _plan_steps(playbook: Playbook, rt: _PlanRuntime, scope: Scope, indent: str,
                finals: bool = False) -> None:
    for alias, ref in playbook.connectors.items():  # the first declaration is used, as in a
        rt.refs.setdefault(alias, ref)                # run (an include's own is not)
    for step in playbook.finally_steps if finals else playbook.steps:
        _plan_step(step, rt, scope, indent)


def _plan_step(step: Step, p: Planner, scope: Scope, indent: str) -> None:
    head = f"{indent}- {step.id}: {step.target}"
    if step.when is not None:
        head += f"  (when: {step.when})"
    if step.loop is not None:
        head += f"  (loop over {step.loop!s} as {step.loop_var})"
    p.line(head)
    pad = indent + "    "
    KINDS[step.kind].plan(p, step, scope, pad)
    for name, ex in step.extract:
        p.line(f"{pad}extract {name} <- {ex.kind} {ex.expr}")
        scope[name] = Unknown(name)
    for a in step.asserts:
        p.line(f"{pad}assert {a.that}")

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
from runner.connectors.base_url import check_base_url
from runner.connectors.client import ConnectorClient
from runner.engine import setting_origin
from runner.environment import Environment
from runner.errors import RunnerError
from runner.inputs import coerce_inputs, register_secret_inputs, secret_inputs
from runner.model import Playbook, Step
from runner.report import describe_request
from runner.secrets import Redactor
from runner.steps.common import build_call
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
    """Just enough of the engine's Runtime for ``build_call``."""

    def __init__(self, env: Environment, redactor: Redactor):
        self.env = env
        self.redactor = redactor
        self.renderer = Renderer(on_secret=redactor.add)
        self.clients: dict[str, ConnectorClient] = {}
        self.refs: dict[str, Any] = {}

    def client(self, alias: str) -> ConnectorClient:
        if alias not in self.clients:
            ref = self.refs[alias]
            spec = registry.get(ref.use)
            settings: dict[str, Any] = {k: s.default for k, s in spec.settings.items()
                                        if s.default is not None}
            settings.update(ref.settings)
            if self.env.sandbox:
                settings["base_url"] = f"http://sandbox.{ref.use}"
            else:
                for key, value in self.env.settings_for(alias, ref.use).items():
                    secret = isinstance(value, dict) or (spec.settings.get(key) and
                                                         spec.settings[key].secret)
                    settings[key] = Unknown(f"secret:{key}") if secret else value
            if not self.env.sandbox and not isinstance(settings.get("base_url"), Unknown):
                check_base_url(settings.get("base_url"), setting=f"connectors.{alias}.base_url",
                               origin=setting_origin(self.env, ref, "base_url"),
                               redactor=self.redactor)
            for key in spec.settings:
                settings.setdefault(key, Unknown(f"setting:{key}"))
            self.clients[alias] = ConnectorClient(alias, spec, settings, self.redactor)
        return self.clients[alias]


def print_plan(playbook: Playbook, env: Environment, inputs: Mapping[str, Any],
               out: IO[str]) -> None:
    redactor = Redactor()
    rt = _PlanRuntime(env, redactor)
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

    def line(text: str) -> None:
        out.write(redactor.redact(text) + "\n")

    line(f"plan · {playbook.name} ({playbook.file}) · env {env.name} · nothing is sent")
    _plan_steps(playbook, rt, scope, line, "")
    if playbook.finally_steps:
        line("finally (always runs):")
        _plan_steps(playbook, rt, scope, line, "", finals=True)


def _plan_steps(playbook: Playbook, rt: _PlanRuntime, scope: _Scope, line: Any, indent: str,
                finals: bool = False) -> None:
    rt.refs.update(playbook.connectors)
    for step in playbook.finally_steps if finals else playbook.steps:
        _plan_step(step, rt, scope, line, indent)


def _plan_step(step: Step, rt: _PlanRuntime, scope: _Scope, line: Any, indent: str) -> None:
    head = f"{indent}- {step.id}: {step.target}"
    if step.when is not None:
        head += f"  (when: {step.when})"
    if step.loop is not None:
        head += f"  (loop over {step.loop!s} as {step.loop_var})"
    line(head)
    pad = indent + "    "
    if step.call is not None:
        local = _Scope(scope)
        if step.loop is not None:
            local[step.loop_var] = Unknown(step.loop_var)
        rt.client(step.call.connector)  # a connector set up wrong (its base URL) stops the plan
        try:
            call = build_call(rt, step, local)  # type: ignore[arg-type]
            line(f"{pad}{describe_request(call.record())}   [{call.url}]")
            record = call.record()
            if "json" in record:
                line(f"{pad}json: {json.dumps(record['json'], ensure_ascii=False)}")
            if "form" in record:
                line(f"{pad}form: {json.dumps(record['form'], ensure_ascii=False)}")
            if not call.safe:
                line(f"{pad}not safe to repeat: never retried after it may have arrived")
        except RunnerError as e:
            line(f"{pad}(rendered at run time: {e.message})")
    if step.auth:
        spec = registry.get(rt.refs[step.auth].use)
        line(f"{pad}auth scheme {spec.auth_scheme}; the token is obtained at run time")
    if step.poll is not None:
        p = step.poll
        line(f"{pad}repeat until `{p.until}` every {p.every:g} s (x{p.backoff:g}, max "
             f"{p.max_interval:g} s), timeout {p.timeout:g} s"
             + (f", at most {p.max_attempts} attempts" if p.max_attempts else ""))
        for f in p.fail_if:
            line(f"{pad}stop at once if `{f}`")
    for name, ex in step.extract:
        line(f"{pad}extract {name} <- {ex.kind} {ex.expr}")
        scope[name] = Unknown(name)
    for a in step.asserts:
        line(f"{pad}assert {a.that}")
    if step.include is not None:
        sub = step.include
        sub_scope = _Scope(inputs=_Scope(), steps=_Scope(), secrets=scope["secrets"], run=_Scope())
        _plan_steps(sub, rt, sub_scope, line, indent + "    ")
        scope[step.id] = Unknown(step.id)

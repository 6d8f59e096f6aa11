"""`include`: run another playbook with inputs; its outputs become ``<step id>`` here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runner.loader import Path_
from runner.model import Playbook, Step
from runner.steps.common import render
from runner.steps.kind import Builder, Planner
from runner.steps.runtime import Runtime, Scope
from runner.templating import SECRET_INPUTS, reads_secret

if TYPE_CHECKING:  # a type only: loading a playbook needs no results
    from runner.results import StepResult

KEY = "include"
YIELDS_TO: tuple[str, ...] = ()
SCHEMA: dict[str, Any] = {
    "include": {"type": "string", "description": "another playbook, relative to this file"},
}
KEYS = frozenset({*SCHEMA, "with"})  # with: the included playbook's inputs


@dataclass(frozen=True)
class IncludeSpec:
    """An ``include:`` step: the playbook and its inputs."""
    playbook: Playbook  # Step.include: the engine, fingerprints and batches look inside it
    inputs: Mapping[str, Any]  # `with:` (templates, rendered at run time)

    @property
    def target(self) -> str:
        return f"include {self.playbook.name}"


def build(b: Builder, raw: Mapping[str, Any], path: Path_) -> IncludeSpec:
    sub = b.load_included(raw["include"], path + ("include",))
    inputs = raw.get("with") or {}
    for name in inputs:
        if name not in sub.inputs:
            raise b.fail(path + ("with", name), f"'{raw['include']}' has no input "
                         f"'{name}'", f"its inputs: {', '.join(sub.inputs) or 'none'}")
    missing = [n for n, i in sub.inputs.items() if i.required and n not in inputs]
    if missing:
        raise b.fail(path + ("include",), f"'{raw['include']}' needs input "
                     f"'{missing[0]}'", f"pass it under with: ({missing[0]}: ...)")
    b.check_templates(inputs, path + ("with",))
    if "extract" in raw:
        section, index = path[0], int(path[1])  # an include is never a resume-check
        step_id = raw.get("id") or f"{'finally' if section == 'finally' else 'step'}{index + 1}"
        raise b.fail(path + ("extract",), "an include step has no answer to extract from",
                     f"its outputs are the variable '{step_id}'")
    return IncludeSpec(sub, inputs)


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    spec: IncludeSpec = step.spec
    inputs = render(rt, dict(spec.inputs), scope, "with")
    # an input given a value derived from a secret stays secret in there
    tainted = frozenset(name for name, value in spec.inputs.items()
                        if reads_secret(value, scope.get(SECRET_INPUTS, ())))
    outputs = rt.run_nested(spec.playbook, inputs, result, secret=tainted)
    result.outputs = outputs
    scope[step.id] = outputs
    rt.remember(step, scope, outputs=outputs)


def plan(p: Planner, step: Step, scope: Scope, pad: str) -> None:
    p.nested(step.spec.playbook, scope, pad)
    scope[step.id] = p.unknown(step.id)

"""`auth`: authenticate a connector now, so a bad credential fails here and not mid-way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runner.loader import Path_
from runner.model import Step
from runner.steps.kind import Builder, Planner
from runner.steps.runtime import Runtime, Scope
from runner.steps.sending import record_login

if TYPE_CHECKING:  # a type only: loading a playbook needs no results
    from runner.results import StepResult

KEY = "auth"
YIELDS_TO: tuple[str, ...] = ()
SCHEMA: dict[str, Any] = {"auth": {"type": "string",
                                   "description": "authenticate a connector now"}}
KEYS = frozenset(SCHEMA)


@dataclass(frozen=True)
class AuthSpec:
    """An ``auth:`` step: the connector to log in now."""
    connector: str  # alias

    @property
    def target(self) -> str:
        return f"auth {self.connector}"


def build(b: Builder, raw: Mapping[str, Any], path: Path_) -> AuthSpec:
    b.alias(raw["auth"], path + ("auth",))
    return AuthSpec(raw["auth"])


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    spec: AuthSpec = step.spec
    client = rt.client(spec.connector)
    try:
        client.authenticate()
    finally:
        record_login(rt, client, result)
    rt.remember(step, scope)


def plan(p: Planner, step: Step, scope: Scope, pad: str) -> None:
    spec: AuthSpec = step.spec
    p.line(f"{pad}auth scheme {p.connector(spec.connector).auth_scheme}; "
           "the token is obtained at run time")

"""`auth`: authenticate a connector now, so a bad credential fails here and not mid-way."""

from __future__ import annotations

from runner.model import Step
from runner.results import StepResult
from runner.steps.common import Scope, record_login


def run(rt, step: Step, scope: Scope, result: StepResult) -> None:  # type: ignore[no-untyped-def]
    assert step.auth is not None
    client = rt.client(step.auth)
    try:
        client.authenticate()
    finally:
        record_login(rt, client, result)
    rt.remember(step, scope)

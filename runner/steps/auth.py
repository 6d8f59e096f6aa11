"""`auth`: authenticate a connector now, so a bad credential fails here and not mid-way."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.model import Step
from runner.results import StepResult
from runner.steps.common import Scope, record_login

if TYPE_CHECKING:
    from runner.engine import Runtime


def run(rt: Runtime, step: Step, scope: Scope, result: StepResult) -> None:
    assert step.auth is not None
    client = rt.client(step.auth)
    try:
        client.authenticate()
    finally:
        record_login(rt, client, result)
    rt.remember(step, scope)

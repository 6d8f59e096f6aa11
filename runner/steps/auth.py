"""`auth`: authenticate a connector now, so a bad credential fails here and not mid-way."""

from __future__ import annotations

from runner.errors import VendorError
from runner.model import Step
from runner.results import Exchange, StepResult
from runner.steps.common import Scope


def run(rt, step: Step, scope: Scope, result: StepResult) -> None:  # type: ignore[no-untyped-def]
    assert step.auth is not None
    client = rt.client(step.auth)
    client.authenticate()
    if client.last_login is not None:
        call, response = client.last_login
        client.last_login = None
        exchange = Exchange(request=call.record(), response=response.summary())
        result.exchanges.append(exchange)
        rt.emit("exchange", result, exchange)
        if response.error is not None:
            raise VendorError(f"{step.auth}: login refused: {response.error}",
                              status=response.status_code,
                              hint="check the credentials in the environment file")
    rt.remember(step, scope)

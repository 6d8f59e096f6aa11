"""Auth as a flow: a scheme yields the requests to send and is sent their answers, so it runs
without a client. Each test drives a scheme's flow by hand, as ConnectorClient does."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from runner.connectors.auth import AuthContext, AuthFlow, HeaderAuth, NoAuth
from runner.connectors.http import PreparedCall
from runner.connectors.response import Response
from runner.connectors.token_auth import LoginTokenAuth, OAuth2ClientCredentials
from runner.errors import VendorError

SETTINGS = {"client_id": "me", "client_secret": "s3cret", "token": "t0k"}


def context(secrets: list[Any] | None = None) -> AuthContext:
    def operation(name: str) -> PreparedCall:
        return PreparedCall(connector="x", operation=name, method="POST",
                            url="http://x/login", needs_auth=False)

    def render(template: Any) -> Any:  # enough of the settings' templating for these tests
        return template.replace("{{ settings.", "").replace(" }}", "") \
            if isinstance(template, str) and template.startswith("{{") else template

    return AuthContext("x", SETTINGS, lambda t: SETTINGS.get(render(t), render(t)),
                       (secrets if secrets is not None else []).append, operation)


def call() -> PreparedCall:
    return PreparedCall(connector="x", operation="get", method="GET", url="http://x/thing")


def answer(status: int, body: bytes = b"{}") -> Response:
    return Response(status, {"content-type": "application/json"}, body)


def test_a_login_token_flow_runs_without_a_client() -> None:
    secrets: list[Any] = []
    auth = LoginTokenAuth({"scheme": "token", "operation": "login", "token": "$.data.token",
                           "expires_in": "$.data.ttl"}, context(secrets))
    the_call = call()
    flow = auth.flow(the_call)
    login = next(flow)
    assert login.operation == "login" and login is not the_call
    authorized = flow.send(answer(200, b'{"data": {"token": "abc", "ttl": 600}}'))
    assert authorized is the_call and authorized.headers["Authorization"] == "Bearer abc"
    with pytest.raises(StopIteration):
        flow.send(answer(200))  # accepted: the flow ends, the client returns that answer
    assert "abc" in secrets and auth.expires_at is not None
    # the token is reused: the next call's flow yields the call at once
    again = auth.flow(call())
    assert next(again).headers["Authorization"] == "Bearer abc"


def test_a_refused_token_is_renewed_once_and_the_call_repeated() -> None:
    auth = OAuth2ClientCredentials({"scheme": "oauth2_client_credentials",
                                    "token_url": "http://x/token"}, context())
    flow = auth.flow(call())
    token_request = next(flow)
    assert token_request.form == {"grant_type": "client_credentials"}
    assert token_request.headers["Authorization"] == "Basic bWU6czNjcmV0"
    assert flow.send(answer(200, b'{"access_token": "one"}')).headers["Authorization"] == \
        "Bearer one"
    renewal = flow.send(answer(401))
    assert renewal.url == "http://x/token"
    repeated = flow.send(answer(200, b'{"access_token": "two"}'))
    assert repeated.headers["Authorization"] == "Bearer two"
    with pytest.raises(StopIteration):
        flow.send(answer(401))  # refused again: renewed once only, the answer stands


def test_a_refused_login_raises_from_the_flow_and_frees_the_lock() -> None:
    auth = LoginTokenAuth({"scheme": "token", "operation": "login"}, context())
    flow = auth.flow(call())
    next(flow)
    refused = answer(403, b'{"message": "no"}')
    refused.error = "no"
    with pytest.raises(VendorError, match="x: login refused: no"):
        flow.send(refused)
    assert not auth.lock.locked()
    # a flow closed mid-login (the login's request failed) frees it too
    flow = auth.flow(call())
    next(flow)
    assert auth.lock.locked()
    flow.close()
    assert not auth.lock.locked()


def test_concurrent_first_calls_share_one_login() -> None:
    auth = LoginTokenAuth({"scheme": "token", "operation": "login"}, context())
    logins: list[PreparedCall] = []
    waiting = threading.Event()

    def drive(flow: AuthFlow) -> None:
        request = next(flow)
        try:
            while True:
                if request.operation == "login":
                    logins.append(request)
                    waiting.wait(2)  # the other thread is now waiting on the lock
                    request = flow.send(answer(200, b'{"token": "abc"}'))
                else:
                    request = flow.send(answer(200))
        except StopIteration:
            pass

    threads = [threading.Thread(target=drive, args=(auth.flow(call()),)) for _ in range(2)]
    threads[0].start()
    while not logins:  # the first is logging in, holding the lock across its yielded login
        time.sleep(0.01)
    threads[1].start()
    time.sleep(0.1)  # the second now waits for the lock
    waiting.set()
    for t in threads:
        t.join(5)
    assert len(logins) == 1


def test_login_flow_logs_in_only_when_needed_or_forced() -> None:
    auth = LoginTokenAuth({"scheme": "token", "operation": "login"}, context())
    flow = auth.login_flow()
    next(flow)
    with pytest.raises(StopIteration):
        flow.send(answer(200, b'{"token": "abc"}'))
    assert list(auth.login_flow()) == []  # a valid token: nothing to send
    forced = auth.login_flow(force=True)
    assert next(forced).operation == "login"
    forced.close()


def test_header_and_no_auth_flows_yield_the_call_only() -> None:
    bearer = HeaderAuth({"scheme": "bearer"}, context())
    assert [c.headers for c in bearer.flow(call())] == [{"Authorization": "Bearer t0k"}]
    key = HeaderAuth({"scheme": "api_key", "value": "{{ settings.token }}",
                      "header": "X-Key"}, context())
    assert [c.headers for c in key.flow(call())] == [{"X-Key": "t0k"}]
    assert [c.headers for c in NoAuth({"scheme": "none"}, context()).flow(call())] == [{}]
    assert list(NoAuth({"scheme": "none"}, context()).login_flow()) == []

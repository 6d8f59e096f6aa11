"""The digest answer for a call with query parameters, checked by httpbin's own digest code
(``httpbin.helpers.response``, the computation its server runs): the request-target in the
digest is the path and the query as the transport sends them. (httpbin's server itself fails
on a digest call with a query string, so tests/e2e/test_generic_httpbin.py sends none.)"""

from __future__ import annotations

from typing import Any

import pytest
from httpbin.helpers import response as httpbin_digest

from runner.connectors.auth import AuthContext
from runner.connectors.digest_auth import DigestAuth, _request_uri, parse_challenge
from runner.connectors.http import PreparedCall
from runner.connectors.response import Response

SETTINGS = {"username": "ops", "password": "Pa55-word"}


def _auth(secrets: list[Any]) -> DigestAuth:
    def render(template: Any) -> Any:
        return {"{{ settings.username }}": "ops", "{{ settings.password }}": "Pa55-word"}[template]

    return DigestAuth({}, AuthContext("api", SETTINGS, render, secrets.append,
                                      lambda name: PreparedCall("api", name, "GET", "")))


def _challenge(algorithm: str, qop: str = "auth") -> Response:
    header = (f'Digest realm="me@kennethreitz.com", nonce="abc123", qop="{qop}", '
              f'opaque="xyz", algorithm={algorithm}')
    return Response(401, {"www-authenticate": header}, b"", url="", method="GET")


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "SHA-512"])
def test_the_answer_is_the_one_httpbin_computes(algorithm: str) -> None:
    secrets: list[Any] = []
    auth = _auth(secrets)
    call = PreparedCall("api", "", "GET", "http://h:1/digest-auth/auth/ops/x?page=2",
                        query={"tag": ["a", "b"], "q": "x y"})
    flow = auth.flow(call)
    assert next(flow) is call and "Authorization" not in call.headers  # first: no challenge
    again = flow.send(_challenge(algorithm))
    assert again is call
    sent = parse_challenge(call.headers["Authorization"])
    assert sent is not None and sent["nc"] == "00000001" and sent["opaque"] == "xyz"
    uri = _request_uri(call)
    assert uri.startswith("/digest-auth/auth/ops/x?page=2&") and sent["uri"] == uri
    expected = httpbin_digest(sent, "Pa55-word", {"uri": uri, "method": "GET"})
    assert sent["response"] == expected
    assert "Pa55-word" in secrets
    # the next call reuses the challenge: no 401 round trip, the nonce count goes up
    second = PreparedCall("api", "", "GET", "http://h:1/other")
    flow = auth.flow(second)
    assert next(flow) is second
    assert parse_challenge(second.headers["Authorization"])["nc"] == "00000002"  # type: ignore[index]


def test_a_challenge_offering_only_auth_int_is_not_answered() -> None:
    auth = _auth([])
    call = PreparedCall("api", "", "GET", "http://h:1/x")
    flow = auth.flow(call)
    next(flow)
    with pytest.raises(StopIteration):
        flow.send(_challenge("MD5", qop="auth-int"))
    assert "Authorization" not in call.headers


def test_a_basic_challenge_is_left_alone() -> None:
    auth = _auth([])
    call = PreparedCall("api", "", "GET", "http://h:1/x")
    flow = auth.flow(call)
    next(flow)
    with pytest.raises(StopIteration):
        flow.send(Response(401, {"www-authenticate": 'Basic realm="x"'}, b"", url="",
                           method="GET"))

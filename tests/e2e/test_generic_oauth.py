"""``use: http`` with ``auth: oauth2_client_credentials`` (and ``login``) against a real OAuth2
server built with authlib on loopback (tests/oauth_server.py): one token for many calls, a new
one when it expires, renewal once when the server refuses it (401), and one token request
however many callers start at once."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from oauth_server import CLIENT_ID, CLIENT_SECRET, OAuthServer, oauth_server

from runner import api
from runner.connectors.client import ConnectorClient
from runner.connectors.sessions import connect
from runner.environment import Environment
from runner.errors import Location, VendorError
from runner.model import ConnectorRef
from runner.results import PASSED
from runner.secrets import Redactor


@pytest.fixture()
def server() -> Iterator[OAuthServer]:
    with oauth_server(expires_in=3600) as s:
        yield s


@pytest.fixture()
def short() -> Iterator[OAuthServer]:
    with oauth_server(expires_in=1) as s:
        yield s


def _client(s: OAuthServer, monkeypatch: pytest.MonkeyPatch, **extra: str) -> ConnectorClient:
    monkeypatch.setenv("OAUTH_SECRET", CLIENT_SECRET)
    settings = {"base_url": f"{s.url}/api", "auth": "oauth2_client_credentials",
                "token_url": f"{s.url}/token", "client_id": CLIENT_ID,
                "client_secret": {"secret": "OAUTH_SECRET"}, **extra}
    env = Environment("t", None, connectors={"api": settings})
    ref = ConnectorRef("api", "http", {}, Location("t.yaml", 1, 1))
    return connect(ref, env, None, Redactor())


def _get(client: ConnectorClient, path: str = "/x") -> int:
    return client.send(client.prepare_raw("GET", path)).status_code


def test_one_token_serves_a_whole_run(tmp_path: Path, server: OAuthServer,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTH_SECRET", CLIENT_SECRET)
    env = tmp_path / "env.yaml"
    env.write_text(f"""\
connectors:
  api:
    base_url: {server.url}/api
    auth: oauth2_client_credentials
    token_url: {server.url}/token
    client_id: {CLIENT_ID}
    client_secret: {{secret: OAUTH_SECRET}}
""")
    pb = tmp_path / "pb.yaml"
    pb.write_text("name: o\nconnectors:\n  api: {use: http}\nsteps:\n" + "".join(
        f"  - {{call: api, method: GET, path: /n{i}, query: {{i: {i}}},"
        f" assert: \"response.json.args.i == '{i}'\"}}\n" for i in range(3)))
    out = io.StringIO()
    result = api.run(pb, env=str(env), stream=out, redactor=Redactor())
    assert result.status == PASSED, out.getvalue()
    assert len(server.issued) == 1
    assert CLIENT_SECRET not in out.getvalue()
    assert server.issued[0].access_token not in out.getvalue()


def test_an_expired_token_is_renewed(short: OAuthServer, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(short, monkeypatch, token_margin="0")
    assert _get(client) == 200 and _get(client) == 200
    assert len(short.issued) == 1
    time.sleep(1.2)  # the token's 1 s are over
    assert _get(client) == 200
    assert len(short.issued) == 2


def test_a_refused_token_is_renewed_once(server: OAuthServer,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(server, monkeypatch)
    assert _get(client) == 200
    server.revoke_all()  # the server forgets every token: the next call is answered 401
    assert _get(client) == 200
    assert len(server.issued) == 2


def test_concurrent_first_calls_log_in_once(server: OAuthServer,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(server, monkeypatch)
    start = threading.Barrier(8)
    codes: list[int] = []

    def call(i: int) -> None:
        start.wait()
        codes.append(_get(client, f"/c{i}"))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert codes == [200] * 8
    assert len(server.issued) == 1


def test_a_wrong_client_secret_fails_with_a_clear_error(server: OAuthServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(server, monkeypatch)
    client.settings["client_secret"] = "not-the-secret"  # what the auth flow renders from

    with pytest.raises(VendorError, match="login refused"):
        _get(client)
    assert server.issued == []


def test_login_scheme_a_call_that_returns_a_token(server: OAuthServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``auth: login``: POST {username, password} to ``login_path``, the token read with
    ``login_token`` (JSONPath), its lifetime with ``login_expires_in``; sent as a bearer."""
    monkeypatch.setenv("LOGIN_PW", CLIENT_SECRET)
    env = Environment("t", None, connectors={"api": {
        "base_url": server.url, "auth": "login", "login_path": "/login",
        "login_token": "$.data.jwt", "login_expires_in": "$.data.ttl",
        "username": CLIENT_ID, "password": {"secret": "LOGIN_PW"}}})
    ref = ConnectorRef("api", "http", {}, Location("t.yaml", 1, 1))
    client = connect(ref, env, None, Redactor())
    assert _get(client, "/api/a") == 200 and _get(client, "/api/b") == 200
    assert len(server.issued) == 1
    server.revoke_all()
    assert _get(client, "/api/c") == 200
    assert len(server.issued) == 2

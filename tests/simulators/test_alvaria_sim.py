"""Tests of the Alvaria AutoFacilitate simulator: real HTTP on loopback, no mocks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from runner.builtin.alvaria.simulator import AlvariaSimulator, make


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[AlvariaSimulator, FakeClock]]:
    # One server for the module: stopping one costs ~0.5 s (serve_forever's poll interval).
    clock = FakeClock()
    s = AlvariaSimulator(clock=clock)
    s.start()
    yield s, clock
    s.stop()


@pytest.fixture
def clock(shared: tuple[AlvariaSimulator, FakeClock]) -> FakeClock:
    return shared[1]


@pytest.fixture
def sim(shared: tuple[AlvariaSimulator, FakeClock]) -> AlvariaSimulator:
    """The shared simulator with its state reset, as if new."""
    s, clock = shared
    clock.now = 1000.0
    with s.lock:
        s.tokens.clear()
        s.triggers.clear()
        s.callbacks_sent.clear()
        s.calls.clear()
    return s


class Receiver:
    """A tiny callback receiver on loopback."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.got = threading.Event()
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.bodies.append({"path": self.path, "json": json.loads(body)})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                outer.got.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cb"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def get_token(s: AlvariaSimulator, **override: str) -> requests.Response:
    cfg = s.connector_settings()
    form = {"grant_type": "client_credentials", "scope": "autofacilitateapi",
            "realm": cfg["org_id"]}
    auth = (override.pop("client_id", cfg["client_id"]),
            override.pop("client_secret", cfg["client_secret"]))
    form.update(override)
    return requests.post(cfg["token_url"], data=form, auth=auth, timeout=5)


def headers(s: AlvariaSimulator, token: str | None = None) -> dict[str, str]:
    token = token or get_token(s).json()["access_token"]
    return {"Authorization": f"Bearer {token}", "x-api-key": s.api_key}


def api(s: AlvariaSimulator, org: str | None = None) -> str:
    return f"{s.url}/via/v2/organizations/{org or s.org_id}/autoFacilitate"


def execute(s: AlvariaSimulator, vsn: str, body: Any, hdrs: dict[str, str] | None = None,
            **kw: Any) -> requests.Response:
    return requests.post(f"{api(s)}/execute/{vsn}", json=body, headers=hdrs or headers(s),
                         timeout=5, **kw)


def result(s: AlvariaSimulator, vsn: str, trigger: str,
           hdrs: dict[str, str] | None = None) -> requests.Response:
    return requests.get(f"{api(s)}/result/{vsn}/triggerUUID/{trigger}",
                        headers=hdrs or headers(s), timeout=5)


def assert_error(r: requests.Response, status: int, message: str, reason: str | None = None,
                 detail: str | None = None) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == str(status)
    assert body["message"] == message
    err = body["errors"][0]
    assert err["scope"] == "global"
    if reason is not None:
        assert err["reason"] == reason
    if detail is not None:
        assert err["message"] == detail


# -- token ------------------------------------------------------------------------------
def test_token_happy_path(sim: AlvariaSimulator) -> None:
    r = get_token(sim)
    assert r.status_code == 200
    body = r.json()
    assert body["scope"] == "autofacilitateapi"
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599
    assert len(body["access_token"]) == 36
    assert body["access_token"] in sim.secret_values()
    assert sim.calls["token"] == 1


def test_token_errors(sim: AlvariaSimulator) -> None:
    cfg = sim.connector_settings()
    r = requests.post(cfg["token_url"], json={"grant_type": "client_credentials"},
                      auth=(sim.client_id, sim.client_secret), timeout=5)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = get_token(sim, client_secret="nope")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert r.json()["error_description"]
    r = requests.post(cfg["token_url"], data={"grant_type": "client_credentials"}, timeout=5)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = get_token(sim, scope="other")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    r = get_token(sim, grant_type="password")
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = get_token(sim, realm="otherorg")
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert not sim.tokens


# -- API auth ---------------------------------------------------------------------------
def test_api_auth_errors_are_empty_401(sim: AlvariaSimulator, clock: FakeClock) -> None:
    good = headers(sim)
    cases = [
        {},
        {"x-api-key": sim.api_key},
        {"Authorization": good["Authorization"]},
        {"Authorization": good["Authorization"], "x-api-key": "wrong"},
        {"Authorization": "Bearer not-a-token", "x-api-key": sim.api_key},
    ]
    for h in cases:
        r = requests.post(f"{api(sim)}/execute/WelcomeService", json={}, headers=h, timeout=5)
        assert r.status_code == 401 and r.content == b""
        r = requests.get(f"{api(sim)}/result/WelcomeService/triggerUUID/x", headers=h,
                         timeout=5)
        assert r.status_code == 401 and r.content == b""
    assert execute(sim, "WelcomeService", {}, good).status_code == 200
    clock.advance(3600)  # past expires_in
    assert execute(sim, "WelcomeService", {}, good).status_code == 401


def test_expire_tokens_then_renew(sim: AlvariaSimulator) -> None:
    good = headers(sim)
    assert execute(sim, "WelcomeService", {}, good).status_code == 200
    sim.expire_tokens()
    r = execute(sim, "WelcomeService", {}, good)
    assert r.status_code == 401 and r.content == b""
    assert execute(sim, "WelcomeService", {}).status_code == 200  # new token works
    assert sim.calls["token"] == 2


# -- execute / result ---------------------------------------------------------------------
def test_execute_and_poll_with_fake_clock(sim: AlvariaSimulator, clock: FakeClock) -> None:
    h = headers(sim)
    r = execute(sim, "ResetPassword", {"triggerParameters": {"channel": "sms", "user": "bob"}},
                h)
    assert r.status_code == 200
    body = r.json()
    assert body["message"] == f"Successfully triggered ResetPassword@{sim.org_id}"
    trig = body["triggerUUID"]
    assert isinstance(trig, str) and trig in sim.triggers
    assert_error(result(sim, "ResetPassword", trig, h), 404,
                 "Dialog Id not found on the cluster", "Trigger not finished")
    clock.advance(1.0)
    r = result(sim, "ResetPassword", trig, h)
    assert r.status_code == 204 and r.content == b""
    assert sim.calls["execute"] == 1 and sim.calls["result"] == 2


def test_execute_errors(sim: AlvariaSimulator) -> None:
    h = headers(sim)
    nf = "Dialog Id not found on the cluster"
    r = requests.post(f"{api(sim, 'otherorg')}/execute/WelcomeService", json={}, headers=h,
                      timeout=5)
    assert_error(r, 404, nf, "Not found")
    assert_error(execute(sim, "NoSuchService", {}, h), 404, nf, "Not found")
    r = requests.post(f"{api(sim)}/execute/WelcomeService", data=b"not json", headers=h,
                      timeout=5)
    assert_error(r, 400, "Validation exception", "Invalid request")
    bad: Any
    for bad in ([], {"triggerParameters": "x"}, {"callbackUrls": "http://127.0.0.1/"},
                {"callbackUrls": [1]}):
        assert_error(execute(sim, "WelcomeService", bad, h), 400, "Validation exception")
    r = execute(sim, "WelcomeService", {"triggerParameters": {"channel": "fax"}}, h)
    assert r.status_code == 400
    assert r.json() == {"code": "400", "message": "Validation exception", "errors": [
        {"scope": "global", "reason": "Invalid request",
         "message": "The value for the channel is invalid"}]}
    r = execute(sim, "WelcomeService", {"triggerParameters": {"count": 3}}, h)
    assert_error(r, 422, "Unprocessable Entity")
    assert_error(execute(sim, "BrokenService", {}, h), 500, "Internal server error")
    assert not sim.triggers


def test_result_errors(sim: AlvariaSimulator, clock: FakeClock) -> None:
    h = headers(sim)
    nf = "Dialog Id not found on the cluster"
    trig = execute(sim, "WelcomeService", {}, h).json()["triggerUUID"]
    clock.advance(5)
    assert_error(result(sim, "WelcomeService", "no-such-trigger", h), 404, nf, "Unknown trigger")
    assert_error(result(sim, "ResetPassword", trig, h), 404, nf, "Unknown trigger")
    assert_error(result(sim, "NoSuchService", trig, h), 404, nf, "Not found")
    r = requests.get(f"{api(sim, 'otherorg')}/result/WelcomeService/triggerUUID/{trig}",
                     headers=h, timeout=5)
    assert_error(r, 404, nf, "Not found")
    assert result(sim, "WelcomeService", trig, h).status_code == 204


# -- callbacks --------------------------------------------------------------------------
def test_callbacks_with_fake_clock(sim: AlvariaSimulator, clock: FakeClock,
                                   receiver: Receiver) -> None:
    h = headers(sim)
    urls = [receiver.url, "https://mycompany.com/callbacks/id=123"]
    r = execute(sim, "WelcomeService",
                {"triggerParameters": {"name": "Ann"}, "callbackUrls": urls}, h)
    trig = r.json()["triggerUUID"]
    assert sim.deliver_due_callbacks() == []
    clock.advance(1.0)
    sent = sim.deliver_due_callbacks()
    assert sent[0] == (receiver.url, 200)
    assert sent[1][0] == urls[1] and str(sent[1][1]).startswith("skipped")
    assert sim.callbacks_sent == sent
    assert receiver.bodies == [{"path": "/cb", "json": {
        "triggerUUID": trig, "vsn": "WelcomeService", "status": "completed",
        "result": {"triggerParameters": {"name": "Ann"}}}}]
    assert sim.deliver_due_callbacks() == []  # only once


def test_full_flow_real_time_and_options(receiver: Receiver) -> None:
    s = make(run_seconds=0.2, service_seconds={"SlowService": 30}, org_id="org9",
             services={"WelcomeService", "SlowService"}, token_ttl=60, faults={})
    s.start()
    try:
        cfg = s.connector_settings()
        tok = requests.post(cfg["token_url"], auth=(cfg["client_id"], cfg["client_secret"]),
                            data={"grant_type": "client_credentials",
                                  "scope": "autofacilitateapi", "realm": cfg["org_id"]},
                            timeout=5).json()
        assert tok["expires_in"] == 60
        tok = tok["access_token"]
        h = {"Authorization": f"Bearer {tok}", "x-api-key": cfg["api_key"]}
        base = f"{cfg['base_url']}/via/v2/organizations/{cfg['org_id']}/autoFacilitate"
        r = requests.post(f"{base}/execute/WelcomeService", headers=h, timeout=5,
                          json={"triggerParameters": {"channel": "email"},
                                "callbackUrls": [receiver.url]})
        assert r.json()["message"] == "Successfully triggered WelcomeService@org9"
        trig = r.json()["triggerUUID"]
        slow = requests.post(f"{base}/execute/SlowService", headers=h, json={},
                             timeout=5).json()["triggerUUID"]
        r = requests.post(f"{base}/execute/ResetPassword", headers=h, json={}, timeout=5)
        assert_error(r, 404, "Dialog Id not found on the cluster", "Not found")
        statuses = []
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            r = requests.get(f"{base}/result/WelcomeService/triggerUUID/{trig}", headers=h,
                             timeout=5)
            statuses.append(r.status_code)
            if r.status_code == 204:
                break
            time.sleep(0.05)
        assert statuses[0] == 404 and statuses[-1] == 204
        assert receiver.got.wait(2)
        assert receiver.bodies[0]["json"]["triggerUUID"] == trig
        assert receiver.bodies[0]["json"]["result"] == {
            "triggerParameters": {"channel": "email"}}
        for _ in range(40):
            if s.callbacks_sent:
                break
            time.sleep(0.01)
        assert s.callbacks_sent == [(receiver.url, 200)]
        r = requests.get(f"{base}/result/SlowService/triggerUUID/{slow}", headers=h, timeout=5)
        assert_error(r, 404, "Dialog Id not found on the cluster", "Trigger not finished")
    finally:
        s.stop()

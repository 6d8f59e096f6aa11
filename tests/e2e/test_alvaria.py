"""The Alvaria AutoFacilitate runbook and connector end to end: real HTTP to the simulator (and
to a tiny callback receiver on loopback), no mocks. Every documented error answer ends in a step
failure that names the vendor's message; the token is reused, and renewed exactly once after it
expired; the token host follows the region (rendered only, never contacted)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers import PLAYBOOKS, Outcome, run_playbook
from runner.builtin.alvaria import connector
from runner.builtin.alvaria.simulator import AlvariaSimulator

from runner.connectors.client import ConnectorClient
from runner.errors import InvalidInput
from runner.sandbox import Sandbox
from runner.secrets import Redactor
from runner.simulator_faults import Faults

RUNBOOK = PLAYBOOKS / "alvaria" / "trigger-and-wait.yaml"
NOT_FOUND = "404 Dialog Id not found on the cluster"
TOKEN_PATH = "/tokenservice/oauth2/access_token"


class AlvSandbox(Sandbox):
    """One simulator for the module (stopping one costs ~0.5 s); ``overrides`` replace some of
    the settings a run gets (a wrong api_key, a wrong client secret)."""

    def __init__(self, options: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__(options)
        self.overrides: dict[str, Any] = {}

    def settings(self, name: str) -> dict[str, Any]:
        return {**super().settings(name), **self.overrides}


@pytest.fixture(scope="module")
def box() -> Iterator[AlvSandbox]:
    sandbox = AlvSandbox({"alvaria": {"run_seconds": 0.3,
                                      "service_seconds": {"SlowService": 0.6}}})
    sandbox.start(["alvaria"])
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sim(box: AlvSandbox) -> AlvariaSimulator:
    s: AlvariaSimulator = box.simulators["alvaria"]
    with s.lock:
        for trig in s.triggers.values():
            if trig.timer is not None:
                trig.timer.cancel()
        s.triggers.clear()
        s.tokens.clear()
        s.callbacks_sent.clear()
        s.calls.clear()
    s.run_seconds = 0.3
    s.service_seconds = {"SlowService": 0.6}
    s.faults = Faults()
    box.overrides = {}
    return s


class Receiver:
    """A tiny HTTP server on loopback that records the callbacks POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.got = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.bodies.append({"path": self.path, "json": json.loads(body)})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                outer.got.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callbacks/id=123"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def run(box: AlvSandbox, tmp_path: Path, path: Path = RUNBOOK, **inputs: Any) -> Outcome:
    out = run_playbook(path, tmp_path, inputs, sandbox=box)
    assert_no_leak(out, box.simulators["alvaria"])
    return out


def assert_no_leak(out: Outcome, sim: AlvariaSimulator) -> None:
    text = out.outputs()
    secrets = sim.secret_values()
    assert secrets
    for value in secrets:
        assert value not in text


def step(out: Outcome, step_id: str) -> Any:
    return next(s for s in out.result.steps if s.step_id == step_id)


def failed(out: Outcome, step_id: str, *texts: str) -> None:
    assert out.result.status == "failed", out.console
    assert out.result.failed_step == f"step '{step_id}'"
    for text in texts:
        assert text in (out.result.error or ""), out.result.error
        assert text in out.console


def when_called(sim: AlvariaSimulator, route: str, action: Callable[[], None],
                times: int = 1) -> threading.Thread:
    """Run ``action`` in a thread once ``route`` was called ``times`` times (mid-poll faults),
    0.2 s later: the count goes up before the answer is made, the poll waits 1 s between tries."""

    def wait_then_act() -> None:
        deadline = time.monotonic() + 5
        while sim.calls[route] < times and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        action()

    thread = threading.Thread(target=wait_then_act, daemon=True)
    thread.start()
    return thread


def client_for(settings: dict[str, Any]) -> ConnectorClient:
    return ConnectorClient("alvaria", connector(), settings, Redactor())


# -- trigger-and-wait.yaml: happy paths ------------------------------------------------------
def test_trigger_and_wait_with_a_callback(box, sim, tmp_path, receiver):
    params = {"channel": "email", "user": "ann"}
    out = run(box, tmp_path, vsn="ResetPassword", parameters=params,
              callback_url=receiver.url)
    assert out.result.status == "passed", out.console
    outs = out.result.outputs
    uuid = outs["trigger_uuid"]
    assert outs == {"trigger_uuid": uuid, "vsn": "ResetPassword",
                    "message": f"Successfully triggered ResetPassword@{sim.org_id}"}
    trig = sim.triggers[uuid]
    assert (trig.vsn, trig.parameters, trig.callback_urls) == ("ResetPassword", params,
                                                               [receiver.url])
    request = step(out, "trigger").exchanges[0].request
    assert request["json"] == {"triggerParameters": params, "callbackUrls": [receiver.url]}
    # the poll kept going on 404 "Trigger not finished", then got 204 No Content
    wait = step(out, "wait")
    assert wait.attempts >= 2
    first = wait.exchanges[0].response
    assert first["status"] == 404 and "Trigger not finished" in first["error"]
    assert wait.exchanges[-1].response["status"] == 204
    # one token for the whole run: the execute and every poll reused it
    assert sim.calls["token"] == 1
    assert sim.calls["execute"] == 1 and sim.calls["result"] == wait.attempts
    # the service POSTed its result to the callback URL when it finished
    assert receiver.got.wait(3)
    assert receiver.bodies == [{"path": "/callbacks/id=123", "json": {
        "triggerUUID": uuid, "vsn": "ResetPassword", "status": "completed",
        "result": {"triggerParameters": params}}}]
    for _ in range(100):
        if sim.callbacks_sent:
            break
        time.sleep(0.01)
    assert sim.callbacks_sent == [(receiver.url, 200)]


def test_defaults_trigger_welcome_service_without_callback_urls(box, sim, tmp_path):
    sim.run_seconds = 0.0  # finished at once: the first poll is the 204
    out = run(box, tmp_path)
    assert out.result.status == "passed", out.console
    assert out.result.outputs["vsn"] == "WelcomeService"
    request = step(out, "trigger").exchanges[0].request
    assert request["json"] == {"triggerParameters": {}}  # no callbackUrls field at all
    assert request["url"].endswith(
        f"/via/v2/organizations/{sim.org_id}/autoFacilitate/execute/WelcomeService")
    assert step(out, "wait").attempts == 1
    trig = sim.triggers[out.result.outputs["trigger_uuid"]]
    assert trig.callback_urls == [] and trig.parameters == {}


# -- tokens: reuse and renewal ----------------------------------------------------------------
def test_token_reused_then_renewed_once_after_expiry(box, sim):
    client = client_for(box.settings("alvaria"))
    try:
        answer = client.send(client.prepare("execute", {"vsn": "WelcomeService"}))
        assert answer.error is None, answer.error
        uuid = answer.json["triggerUUID"]
        first = client.send(client.prepare("result", {"vsn": "WelcomeService",
                                                      "triggerUUID": uuid}))
        assert first.status_code == 404 and "Trigger not finished" in (first.error or "")
        assert sim.calls["token"] == 1  # two calls, one token
        assert sim.calls["result"] == 1

        sim.expire_tokens()
        again = client.send(client.prepare("result", {"vsn": "WelcomeService",
                                                      "triggerUUID": uuid}))
        assert again.status_code in (204, 404) and again.status_code != 401
        assert sim.calls["token"] == 2  # exactly one more token request
        assert sim.calls["result"] == 3  # the refused call was repeated once

        # a POST refused with 401 was not acted on: it is repeated once, one trigger results
        sim.expire_tokens()
        answer = client.send(client.prepare("execute", {"vsn": "ResetPassword"}))
        assert answer.error is None, answer.error
        assert sim.calls["token"] == 3 and sim.calls["execute"] == 3
        assert len(sim.triggers) == 2

        later = client.send(client.prepare("result", {"vsn": "WelcomeService",
                                                      "triggerUUID": uuid}))
        assert later.status_code != 401 and sim.calls["token"] == 3  # the new one is reused
        for token in sim.tokens:
            assert token in client.redactor.values
    finally:
        client.close()


def test_token_renewed_mid_poll_in_the_runbook(box, sim, tmp_path):
    # SlowService runs 0.6 s: the first poll is "not finished"; the token expires before the
    # second one, which is refused with 401, renewed once and repeated
    expired = when_called(sim, "result", sim.expire_tokens)
    out = run(box, tmp_path, vsn="SlowService")
    expired.join(5)
    assert out.result.status == "passed", out.console
    assert sim.calls["token"] == 2
    wait = step(out, "wait")
    logins = [e for e in wait.exchanges if e.request["url"].endswith(TOKEN_PATH)]
    assert len(logins) == 1 and logins[0].response["status"] == 200
    assert sim.calls["result"] == wait.attempts + 1  # one call answered 401 and repeated


# -- every documented error answer ------------------------------------------------------------
@pytest.mark.parametrize(("inputs", "texts"), [
    ({"parameters": {"channel": "fax"}},
     ["400 Validation exception", "Invalid request: The value for the channel is invalid"]),
    ({"vsn": "NoSuchService"},
     [NOT_FOUND, "Not found: Service NoSuchService not found"]),
    ({"parameters": {"count": 3}},
     ["422 Unprocessable Entity", "Invalid parameter: The value for count must be a string"]),
    ({"vsn": "BrokenService"},
     ["500 Internal server error", "Internal error: Service BrokenService failed to start"]),
], ids=["400-channel-invalid", "404-unknown-service", "422-non-string-param",
        "500-broken-service"])
def test_execute_errors_name_the_vendor_message(box, sim, tmp_path, inputs, texts):
    out = run(box, tmp_path, **inputs)
    failed(out, "trigger", "alvaria.execute answered", *texts)
    assert sim.calls["execute"] == 1  # not safe to repeat: sent once, not retried
    assert sim.calls["result"] == 0 and not sim.triggers


def test_bad_api_key_is_401_after_one_renewal(box, sim, tmp_path):
    box.overrides = {"api_key": "not-the-api-key"}
    out = run(box, tmp_path)
    failed(out, "trigger", "HTTP 401 Unauthorized", "x-api-key was refused")
    assert "not-the-api-key" not in out.outputs()  # a secret setting, even when wrong
    assert sim.calls["token"] == 2  # a new token was tried once
    assert sim.calls["execute"] == 2 and not sim.triggers


@pytest.mark.parametrize("setting", ["client_secret", "client_id"])
def test_bad_client_credentials_fail_at_the_token(box, sim, tmp_path, setting):
    box.overrides = {setting: "not-the-credential"}
    out = run(box, tmp_path)
    failed(out, "login", "login refused", "invalid_client: Client authentication failed",
           "HTTP 401")
    assert sim.calls["token"] == 1 and sim.calls["execute"] == 0
    assert not sim.tokens


def test_unknown_trigger_stops_the_poll_at_once(box, sim, tmp_path):
    def forget() -> None:
        with sim.lock:
            sim.triggers.clear()

    forgotten = when_called(sim, "result", forget)
    out = run(box, tmp_path, vsn="SlowService")
    forgotten.join(5)
    failed(out, "wait", "terminal answer", NOT_FOUND, "Unknown trigger")
    assert step(out, "wait").attempts == 2  # not waited out until the timeout
    assert sim.calls["result"] == 2


@pytest.mark.parametrize("status", [400, 422, 500])
def test_error_status_during_the_poll_stops_it(box, sim, tmp_path, status):
    sim.faults = Faults(error_5xx=1.0, status_5xx=status, only={"result"}, count=1)
    out = run(box, tmp_path)
    failed(out, "wait", "terminal answer", f"HTTP {status}")
    assert step(out, "wait").attempts == 1
    assert sim.calls["execute"] == 1


# -- the token host by region: rendered, never contacted --------------------------------------
@pytest.mark.parametrize(("region", "host"), [
    (None, "myaspect.id.aspect-cloud.net"),
    ("us", "myaspect.id.aspect-cloud.net"),
    ("eu", "myaspect.eu.id.aspect-cloud.net"),
    ("uk", "myaspect.uk.id.aspect-cloud.net"),
    ("ca", "myaspect.ca.id.aspect-cloud.net"),
    ("us-a", "myaspect.us-a.id.aspect-cloud.net"),
    ("EU", "myaspect.eu.id.aspect-cloud.net"),
])
def test_token_url_follows_the_region(region, host):
    settings = {"base_url": "https://acmecorp.via.aspect-cloud.net", "org_id": "acmecorp",
                "client_id": "id", "client_secret": "secret", "api_key": "key"}
    if region is not None:
        settings["region"] = region
    client = client_for(settings)
    url = client.render_setting(client.spec.auth["token_url"])
    assert url == f"https://{host}/tokenservice/oauth2/access_token"
    client.close()


def test_explicit_token_url_wins_and_an_unknown_region_is_refused():
    base = {"base_url": "https://acmecorp.via.aspect-cloud.net", "org_id": "acmecorp"}
    client = client_for({**base, "region": "eu", "token_url": "https://proxy.example/token"})
    assert client.render_setting(client.spec.auth["token_url"]) == "https://proxy.example/token"
    client = client_for({**base, "region": "mars"})
    with pytest.raises(InvalidInput, match="region mars is unknown: use us, eu, uk, ca or us-a"):
        client.render_setting(client.spec.auth["token_url"])


def test_operations_and_settings_are_declared_as_documented():
    spec = connector()
    assert spec.auth_scheme == "oauth2_client_credentials"
    assert spec.auth["form"] == {"scope": "autofacilitateapi", "realm": "{{ settings.org_id }}"}
    assert spec.auth["renew_on"] == [401]
    assert spec.headers["x-api-key"] == "{{ settings.api_key }}"
    assert {n for n, s in spec.settings.items() if s.secret} == {"client_secret", "api_key"}
    assert spec.settings["region"].default == "us"
    execute, result = spec.operations["execute"], spec.operations["result"]
    assert execute.method == "POST" and not execute.safe
    assert result.method == "GET" and result.safe and result.success == (204,)
    assert {p.name: p.type for p in execute.params.values()} == {
        "vsn": "string", "triggerParameters": "object", "callbackUrls": "array"}
    assert execute.params["vsn"].location == "path"
    assert result.params["triggerUUID"].location == "path"

"""``allow-error: true`` catches a transport error too (issue 13): no answer at all — a closed
port, a read timeout — is an answer of status 0 with an empty body and ``response.error`` the
plain message; the step passes, the exchange and its error are still recorded, and a POST that
may have been sent is never sent again by ``runner resume``. A poll step with allow-error reads
such an answer with its expressions. Against httpbin and a closed loopback port; each test
failed before: the transport error failed the step whatever allow-error said."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from leakcheck import every_output
from wsgi_servers import Counted, counted_httpbin

from runner import api
from runner.results import FAILED, PASSED, RunResult
from runner.secrets import Redactor


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Counted]]:
    with counted_httpbin() as both:
        yield both


@pytest.fixture
def closed() -> str:
    """A loopback port nobody listens on: connection refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def run(tmp_path: Path, base_url: str, steps: str, settings: str = "",
        inputs: dict[str, object] | None = None) -> tuple[RunResult, str, dict[str, object]]:
    """Run ``steps`` on ``use: http`` at ``base_url``; (result, console, JSON report)."""
    env = tmp_path / "env.yaml"
    env.write_text(f"connectors:\n  api:\n    base_url: {base_url}\n{settings}")
    pb = tmp_path / "pb.yaml"
    pb.write_text("name: transport\ninputs:\n  go: {type: boolean, default: false}\n"
                  f"connectors:\n  api: {{use: http}}\nsteps:\n{steps}")
    out, report = io.StringIO(), tmp_path / "r.json"
    result = api.run(pb, env=str(env), inputs=inputs, stream=out, redactor=Redactor(),
                     report_json=report, progress=False)
    return result, out.getvalue(), json.loads(report.read_text())


def test_connection_refused_is_an_answer_of_status_0(tmp_path: Path, closed: str) -> None:
    result, console, report = run(tmp_path, closed, """\
  - id: ping
    call: api
    method: GET
    path: /health
    allow-error: true
    extract:
      server: {header: Server, default: ""}
      id: {jsonpath: $.id, default: -1}
      code: {status: true}
    assert:
      - "response.status == 0 and response.status_code == 0 and not response.ok"
      - "response.text == '' and response.body == '' and response.json is none"
      - "response.headers == {} and response.size == 0"
      - "'cannot connect' in response.error and 'refused' in response.error"
  - assert: "code == 0 and server == '' and id == -1 and steps.ping.response.status == 0"
""")
    assert result.status == PASSED, console
    step = report["steps"][0]  # type: ignore[index]
    assert step["status"] == "passed"
    exchange = step["exchanges"][0]
    assert "cannot connect" in exchange["error"] and exchange.get("response") is None
    host = closed.removeprefix("http://")
    assert f"api: cannot connect ({host})" in exchange["error"]


def test_a_redirect_loop_with_allow_error(tmp_path: Path, served: tuple[str, Counted]) -> None:
    """A failure another try would meet again (more than 30 redirects) is not retried, and
    with allow-error it is no answer either."""
    result, console, _ = run(tmp_path, served[0], """\
  - call: api
    method: GET
    path: /redirect/40
    allow-error: true
    assert: "response.status == 0 and 'too many redirects' in response.error"
""")
    assert result.status == PASSED, console


def test_without_allow_error_it_still_fails(tmp_path: Path, closed: str) -> None:
    result, console, _ = run(tmp_path, closed, """\
  - call: api
    method: GET
    path: /health
""")
    assert result.status == FAILED and "cannot connect" in console, console


def test_a_read_timeout_with_allow_error(tmp_path: Path,
                                         served: tuple[str, Counted]) -> None:
    url, counted = served
    before = counted.count("POST", "/delay/3")
    result, console, report = run(tmp_path, url, """\
  - call: api
    method: POST
    path: /delay/3
    json: {n: 1}
    allow-error: true
    assert:
      - "response.status == 0 and response.attempts == 1"
      - "'no answer from' in response.error and 'within 1 s' in response.error"
      - "response.elapsed_ms >= 900"
""", settings="    read_timeout: 1\n")
    assert result.status == PASSED, console
    assert counted.count("POST", "/delay/3") == before + 1  # not safe to repeat: sent once
    assert "within 1 s" in report["steps"][0]["exchanges"][0]["error"]  # type: ignore[index]


def test_resume_never_sends_again_a_post_that_passed_with_no_answer(
        tmp_path: Path, served: tuple[str, Counted]) -> None:
    """The POST timed out (it may have been processed: the journal has it sent, never
    answered); with allow-error the step passed, so resuming a later failure of the run skips
    it, and its answer of status 0 is what the later steps read."""
    url, counted = served
    before = counted.count("POST", "/delay/3")
    result, console, _ = run(tmp_path, url, """\
  - id: create
    call: api
    method: POST
    path: /delay/3
    json: {n: 1}
    allow-error: true
  - id: later
    assert: "inputs.go and response.status == 0 and steps.create.response.error is string"
""", settings="    read_timeout: 1\n")
    assert result.status == FAILED and "later" in (result.failed_step or ""), console
    assert counted.count("POST", "/delay/3") == before + 1
    out = io.StringIO()
    resumed = api.resume(result.run_id, inputs={"go": True}, stream=out, progress=False)
    assert resumed.status == PASSED, out.getvalue()
    assert counted.count("POST", "/delay/3") == before + 1  # never sent twice
    record = api.show(result.run_id)
    events = [(e["step_key"], e["event"]) for e in record["journal"]]
    assert ("steps/0", "sent") in events and ("steps/0", "answered") not in events
    assert record["status"] == "passed"
    assert [s["id"] for s in record["report"]["steps"] if s.get("resumed")] == ["create"]


def test_a_secret_in_the_message_is_masked_in_response_error_and_every_output(
        tmp_path: Path, closed: str) -> None:
    """The message names the host, and a base URL's ``user:password@`` goes with it; an invalid
    URL's message quotes it whole, query string included; the key of api_key_query travels in
    the request's query. None shows anywhere, and ``response.error`` itself is masked (a
    template may send it on)."""
    host = closed.removeprefix("http://")
    password, key = "Url-Pa55word-Tq71", "key-query-Zz9Yy8Xx7"
    env = tmp_path / "env.yaml"
    env.write_text("secrets:\n  pw: {secret: G_PW}\nconnectors:\n  api:\n"
                   "    base_url: {secret: G_BASE}\n    auth: api_key_query\n"
                   "    api_key: {secret: G_KEY}\n"
                   "  bad:\n    base_url: 'http://127.0.0.1:99999'\n")
    pb = tmp_path / "pb.yaml"
    pb.write_text("""\
name: leaks
connectors:
  api: {use: http}
  bad: {use: http}
steps:
  - id: ping
    call: api
    method: GET
    path: /get
    allow-error: true
    assert:
      - that: "secrets.pw not in response.error and secrets.pw not in response.url"
        message: "response.error is not masked"
  - id: invalid
    call: bad
    method: GET
    path: "/get?token={{ secrets.pw }}"
    allow-error: true
    assert:
      - that: "'invalid URL' in response.error and secrets.pw not in response.error"
        message: "response.error of the invalid URL is not masked"
  - assert:
      - that: "false"
        message: "the error was {{ response.error }} at {{ response.url }}"
""")
    outs = every_output(tmp_path, pb, env, {}, extra_env={
        "G_BASE": f"http://svc:{password}@{host}", "G_KEY": key, "G_PW": password})
    assert "the error was bad: invalid URL 'http://127.0.0.1:99999/get?token=***'" in outs.run, \
        outs.run
    assert "api: cannot connect (***@" in outs.run
    assert "not masked" not in outs.run
    for secret in (password, key):
        assert outs.find(secret) == [], secret


# -- poll-until with allow-error ---------------------------------------------------------------

def test_a_poll_with_allow_error_reads_no_answer_as_status_0(tmp_path: Path,
                                                            closed: str) -> None:
    """Waiting for a service to go away: without allow-error each try is a transport error,
    retried until the timeout."""
    result, console, _ = run(tmp_path, closed, """\
  - id: gone
    poll-until: "response.status == 0"
    call: api
    method: GET
    path: /health
    allow-error: true
    retry: false
    every: 0.2s
    timeout: 3s
    assert: "'refused' in response.error"
""")
    assert result.status == PASSED, console
    assert result.steps[0].attempts == 1


def test_a_poll_with_allow_error_ends_on_a_post_that_may_have_been_sent(
        tmp_path: Path, served: tuple[str, Counted]) -> None:
    """A POST that timed out is not sent again (the poll stops there) and, with allow-error,
    the step goes on with the answer of status 0, as a call step does."""
    url, counted = served
    before = counted.count("POST", "/delay/2")
    result, console, _ = run(tmp_path, url, """\
  - poll-until: "response.json.done"
    call: api
    method: POST
    path: /delay/2
    allow-error: true
    every: 0.2s
    timeout: 20s
    assert: "response.status == 0 and 'within 1 s' in response.error"
""", settings="    read_timeout: 1\n")
    assert result.status == PASSED, console
    assert counted.count("POST", "/delay/2") == before + 1

"""A slow service (httpbin's ``/delay/N``) behind a connector whose ``read_timeout`` is 1 s
(issue 13): the step fails with a timeout that names the host and the timeout and says which
setting to raise; a safe GET is retried as the policy says, a POST is sent once (httpbin is
counted: it cannot say how often it was called); with allow-error the step passes with
status 0 and ``response.error`` naming the timeout. Each test failed before (the hint named
``timeouts.read``, a connector file's key, and allow-error did not catch a timeout)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from wsgi_servers import Counted, counted_httpbin

from runner import api
from runner.results import FAILED, PASSED, RunResult
from runner.secrets import Redactor


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Counted]]:
    with counted_httpbin() as both:
        yield both


def run(tmp_path: Path, base_url: str, steps: str) -> tuple[RunResult, str, dict[str, object]]:
    env = tmp_path / "env.yaml"
    env.write_text(f"connectors:\n  api:\n    base_url: {base_url}\n    read_timeout: 1\n")
    pb = tmp_path / "pb.yaml"
    pb.write_text(f"name: slow\nconnectors:\n  api: {{use: http}}\nsteps:\n{steps}")
    out, report = io.StringIO(), tmp_path / "r.json"
    result = api.run(pb, env=str(env), stream=out, redactor=Redactor(), progress=False,
                     report_json=report)
    return result, out.getvalue(), json.loads(report.read_text())


def test_a_slow_get_is_retried_then_fails_naming_the_timeout(
        tmp_path: Path, served: tuple[str, Counted]) -> None:
    url, counted = served
    before = counted.count("GET", "/delay/2")
    result, console, report = run(tmp_path, url, """\
  - call: api
    method: GET
    path: /delay/2
    retry: {attempts: 2, backoff: 0.01}
""")
    assert result.status == FAILED
    host = url.removeprefix("http://")
    assert f"api: no answer from {host} within 1 s (gave up after 2 attempts)" in console, \
        console
    assert "raise the connector's read_timeout setting" in console
    assert counted.count("GET", "/delay/2") == before + 2
    exchanges = report["steps"][0]["exchanges"]  # type: ignore[index]
    assert len(exchanges) == 1 and "gave up after 2 attempts" in exchanges[0]["error"]


def test_a_slow_post_is_sent_once(tmp_path: Path, served: tuple[str, Counted]) -> None:
    url, counted = served
    before = counted.count("POST", "/delay/3")
    result, console, _ = run(tmp_path, url, """\
  - call: api
    method: POST
    path: /delay/3
    json: {order: 1}
    retry: {attempts: 3, backoff: 0.01}
""")
    assert result.status == FAILED
    assert "within 1 s" in console and "gave up after" not in console, console
    assert "the request may have been processed" in console
    assert "raise the connector's read_timeout setting" in console
    assert counted.count("POST", "/delay/3") == before + 1


def test_a_slow_post_with_allow_error_passes_with_status_0(
        tmp_path: Path, served: tuple[str, Counted]) -> None:
    url, counted = served
    before = counted.count("POST", "/delay/3")
    host = url.removeprefix("http://")
    result, console, report = run(tmp_path, url, f"""\
  - id: order
    call: api
    method: POST
    path: /delay/3
    json: {{order: 2}}
    allow-error: true
    assert:
      - "response.status == 0 and not response.ok and response.attempts == 1"
      - "response.error == 'api: no answer from {host} within 1 s'"
""")
    assert result.status == PASSED, console
    assert counted.count("POST", "/delay/3") == before + 1
    step = report["steps"][0]  # type: ignore[index]
    assert step["status"] == "passed" and "within 1 s" in step["exchanges"][0]["error"]

"""``status:`` on a call or poll-until step (issue 13; Tavern's ``status_code``, Hurl's ``HTTP
404``): the answer's status must be one of those listed; a listed status is not an error (a 404
after a DELETE passes, ``response.error`` is none), and is never retried (an expected 503); any
other fails the step with "expected status 200 or 201, got ...". Checked at validate time.
Against httpbin (counted: it cannot say how often it was called); each test failed before (the
key was refused)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from wsgi_servers import Counted, counted_httpbin

from runner import api
from runner.errors import PlaybookError
from runner.results import FAILED, PASSED, RunResult
from runner.secrets import Redactor


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Counted]]:
    with counted_httpbin() as both:
        yield both


def run(tmp_path: Path, base_url: str, steps: str, connector: str = "http"
        ) -> tuple[RunResult, str]:
    env = tmp_path / "env.yaml"
    env.write_text(f"connectors:\n  api:\n    base_url: {base_url}\n")
    pb = tmp_path / "pb.yaml"
    pb.write_text(f"name: status\nconnectors:\n  api: {{use: {connector}}}\nsteps:\n{steps}")
    out = io.StringIO()
    result = api.run(pb, env=str(env), stream=out, redactor=Redactor(), progress=False)
    return result, out.getvalue()


def test_a_listed_404_passes_and_is_no_error(tmp_path: Path,
                                             served: tuple[str, Counted]) -> None:
    result, console = run(tmp_path, served[0], """\
  - call: api
    method: DELETE
    path: /status/404
    status: 404
    assert: "response.error is none and response.ok and response.status == 404"
  - call: api
    method: GET
    path: /status/201
    status: [200, 201]
""")
    assert result.status == PASSED, console


def test_another_status_fails_naming_the_expected_ones(tmp_path: Path,
                                                       served: tuple[str, Counted]) -> None:
    result, console = run(tmp_path, served[0], """\
  - call: api
    method: GET
    path: /status/404
    status: [200, 201]
""")
    assert result.status == FAILED
    assert "api: expected status 200 or 201, got HTTP 404" in console, console
    assert "allow-error: true lets the step go on" in console
    # a 2xx that is not listed fails too
    result, console = run(tmp_path, served[0], """\
  - call: api
    method: GET
    path: /json
    status: 201
""")
    assert result.status == FAILED
    assert "api: expected status 201, got HTTP 200: {" in console, console  # the body's start


def test_with_allow_error_another_status_is_an_error_answer(
        tmp_path: Path, served: tuple[str, Counted]) -> None:
    result, console = run(tmp_path, served[0], """\
  - call: api
    method: GET
    path: /status/418
    status: [200, 404]
    allow-error: true
    assert: "response.status == 418 and response.error.startswith('HTTP 418')"
""")
    assert result.status == PASSED, console


def test_an_expected_503_is_not_retried(tmp_path: Path, served: tuple[str, Counted]) -> None:
    url, counted = served
    before = counted.count("GET", "/status/503")
    result, console = run(tmp_path, url, """\
  - call: api
    method: GET
    path: /status/503
    status: 503
    assert: "response.attempts == 1 and response.ok"
""")
    assert result.status == PASSED, console
    assert counted.count("GET", "/status/503") == before + 1
    # without status: the policy retries it (3 tries), then the step fails
    result, console = run(tmp_path, url, """\
  - call: api
    method: GET
    path: /status/503
    retry: {attempts: 3, backoff: 0.01}
""")
    assert result.status == FAILED and "HTTP 503" in console
    assert counted.count("GET", "/status/503") == before + 4


def test_a_listed_error_status_outside_2xx_skips_the_connectors_error_rules(
        tmp_path: Path, served: tuple[str, Counted]) -> None:
    """A connector file whose rule words every 4xx: a step that expects the 404 gets it as its
    answer; a 200 it lists still goes through the rules (an error hidden in a 200's body)."""
    (tmp_path / "connectors").mkdir()
    (tmp_path / "connectors" / "bin.yaml").write_text("""\
name: bin
settings:
  base_url: {required: true}
errors:
  - if: "response.status_code >= 400"
    message: "bin refused it (HTTP {{ response.status_code }})"
  - if: "response.json is mapping and response.json.slideshow is defined"
    message: "a slideshow is an error here"
operations:
  status:
    method: GET
    path: "/status/{code}"
    params:
      code: {type: integer, required: true, in: path}
  json:
    method: GET
    path: /json
""")
    result, console = run(tmp_path, served[0], """\
  - call: api.status
    with: {code: 404}
    status: 404
    assert: "response.error is none"
""", connector="bin")
    assert result.status == PASSED, console
    result, console = run(tmp_path, served[0], """\
  - call: api.status
    with: {code: 418}
    status: [200, 404]
""", connector="bin")
    assert result.status == FAILED
    assert "api.status: expected status 200 or 404, got 418: bin refused it (HTTP 418)" \
        in console, console
    result, console = run(tmp_path, served[0], """\
  - call: api.json
    status: 200
""", connector="bin")
    assert result.status == FAILED and "a slideshow is an error here" in console, console


# -- poll-until --------------------------------------------------------------------------------

def test_a_poll_with_status_reads_a_listed_404_as_an_answer(
        tmp_path: Path, served: tuple[str, Counted]) -> None:
    result, console = run(tmp_path, served[0], """\
  - poll-until: "response.status == 404"
    call: api
    method: GET
    path: /status/404
    status: [200, 404]
    every: 0.1s
    timeout: 5s
    assert: "response.error is none"
""")
    assert result.status == PASSED, console


def test_a_poll_stops_at_once_on_a_status_not_listed(tmp_path: Path,
                                                     served: tuple[str, Counted]) -> None:
    result, console = run(tmp_path, served[0], """\
  - poll-until: "response.json.done"
    call: api
    method: GET
    path: /status/418
    status: [200, 202]
    every: 0.1s
    timeout: 30s
""")
    assert result.status == FAILED
    assert "expected status 200 or 202, got HTTP 418" in console, console
    assert result.steps[0].attempts == 1
    # with allow-error it is an error answer: "not yet", until max-attempts
    result, console = run(tmp_path, served[0], """\
  - poll-until: "response.json.done"
    call: api
    method: GET
    path: /status/418
    status: [200, 202]
    allow-error: true
    every: 0.1s
    max-attempts: 2
""")
    assert result.status == FAILED and result.steps[0].attempts == 2, console
    assert "still false after 2 attempts" in console


# -- validate ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["700", "99", "ok", "[200, 1000]", "[]", "true", "200.5"])
def test_a_status_that_is_not_one_is_refused_at_validate(tmp_path: Path, value: str) -> None:
    pb = tmp_path / "pb.yaml"
    pb.write_text("name: bad\nconnectors:\n  api: {use: http}\nsteps:\n"
                  f"  - call: api\n    method: GET\n    path: /\n    status: {value}\n")
    with pytest.raises(PlaybookError) as caught:
        api.validate([pb])
    text = caught.value.render()
    assert f"{pb}:8:" in text and "step #1 > status" in text and "599" in text, text


def test_status_is_in_the_plan(tmp_path: Path) -> None:
    env = tmp_path / "env.yaml"
    env.write_text("connectors:\n  api:\n    base_url: http://127.0.0.1:9\n")
    pb = tmp_path / "pb.yaml"
    pb.write_text("name: p\nconnectors:\n  api: {use: http}\nsteps:\n"
                  "  - {call: api, method: DELETE, path: /x, status: [200, 204, 404]}\n")
    out = io.StringIO()
    api.plan(pb, env=str(env), stream=out)
    assert "expects status 200, 204 or 404" in out.getvalue(), out.getvalue()

"""Issue 13's transport seen from a playbook, against httpbin: raw calls through the era
connector with an environment whose base_url points at httpbin (with a path, as a base URL
often has), the new connector settings given in the playbook and in the environment file."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from wsgi_servers import httpbin as serve

from runner import api
from runner.results import RunResult

PLAYBOOK = """\
name: httpbin through a connector
connectors:
  era: {use: era, settings: {follow_redirects: false}}
steps:
  - id: head
    call: era
    method: HEAD
    path: get
  - id: tags
    call: era
    method: GET
    path: get
    query: {tag: [a, b]}
    extract: {tags: {jsonpath: "$.args.tag"}}
    assert: ["response.json.url.endswith('/anything/get?tag=a&tag=b')"]
  - id: moved
    call: era
    method: GET
    path: /redirect-to
    query: {url: /elsewhere, status_code: 302}
    extract: {location: {header: location}}
  - id: login
    call: era
    method: GET
    path: /cookies/set
    query: {session: s1}
  - id: session
    call: era
    method: GET
    path: /cookies
    extract: {session: {jsonpath: "$.cookies.session"}}
"""


@pytest.fixture(scope="module")
def httpbin_url() -> Iterator[str]:
    with serve() as url:
        yield url


def run(tmp_path: Path, base_url: str, playbook: str = PLAYBOOK, extra: str = "") -> RunResult:
    (tmp_path / "p.yaml").write_text(playbook)
    (tmp_path / "env.yaml").write_text(
        f"connectors:\n  era:\n    base_url: {base_url}\n    api_token: {{secret: ERA_TOKEN}}\n"
        + extra)
    return api.run(tmp_path / "p.yaml", env=str(tmp_path / "env.yaml"), stream=io.StringIO(),
                   store=False)


def test_a_playbook_sees_the_http_it_expects(tmp_path: Path, httpbin_url: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERA_TOKEN", "not-checked")
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    # /anything echoes any path: the base path stays, with or without the slash
    playbook = PLAYBOOK[:PLAYBOOK.index("  - id: moved")]  # settings: in the playbook
    result = run(tmp_path, httpbin_url + "/anything/", playbook)
    assert result.status == "passed", result.error
    by_id = {s.step_id: s for s in result.steps}
    assert by_id["head"].status == "passed"
    assert by_id["tags"].extracted["tags"] == ["a", "b"]


def test_redirects_off_and_cookies_from_the_environment_file(
        tmp_path: Path, httpbin_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERA_TOKEN", "not-checked")
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    steps = PLAYBOOK[PLAYBOOK.index("  - id: moved"):]
    playbook = "name: cookies and redirects\nconnectors:\n  era: {use: era}\nsteps:\n" + steps
    result = run(tmp_path, httpbin_url, playbook, extra="    follow_redirects: false\n")
    assert result.status == "passed", result.error
    by_id = {s.step_id: s for s in result.steps}
    assert by_id["moved"].extracted["location"] == "/elsewhere"
    # not followed: /cookies/set's 302 set the cookie, the next call sends it back
    assert by_id["session"].extracted["session"] == "s1"
    result = run(tmp_path, httpbin_url, playbook,
                 extra="    follow_redirects: false\n    cookies: false\n")
    assert result.status == "failed"  # no jar: /cookies has no session to extract

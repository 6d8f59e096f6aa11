"""Two causes of "internal error, recorded passed", against a real server not written here:
a WebDAV server (wsgidav) whose PROPFIND answers are `D:`-prefixed XML, read with an XPath
that declares (or forgets) its namespace; and a header value HTTP cannot carry."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import cli
from wsgi_servers import webdav

from runner import api
from runner.errors import PlaybookError
from runner.results import RunResult


@pytest.fixture(scope="module")
def dav(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """wsgidav serving a folder of two files, anonymous, on a free loopback port."""
    root = tmp_path_factory.mktemp("dav")
    (root / "report.txt").write_text("q3\n")
    (root / "notes.txt").write_text("hi\n")
    with webdav(root) as url:
        yield url


@pytest.fixture()
def env(tmp_path: Path, dav: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The era connector (a bearer token, JSON by default) pointed at the WebDAV server:
    raw calls reach any path and method of its base URL."""
    monkeypatch.setenv("ERA_TOKEN", "dav-token-not-checked")
    path = tmp_path / "dav.yaml"
    path.write_text(f"connectors:\n  era:\n    base_url: {dav}\n"
                    "    api_token: {secret: ERA_TOKEN}\n")
    return path


PROPFIND = """\
name: List a WebDAV folder
inputs:
  path: {{type: string, default: "//D:href/text()"}}
  title: {{type: string, default: plain}}
connectors:
  era: {{use: era}}
steps:
  - id: list
    call: era
    method: PROPFIND
    path: /
    safe: true
    headers: {{Depth: "1", X-Title: "{{{{ inputs.title }}}}"}}
    extract:
      hrefs: {extraction}
finally:
  - id: again
    call: era
    method: PROPFIND
    path: /
    safe: true
    headers: {{Depth: "0"}}
"""


def _playbook(tmp_path: Path, extraction: str) -> Path:
    path = tmp_path / "propfind.yaml"
    path.write_text(PROPFIND.format(extraction=extraction))
    return path


def _run(playbook: Path, env: Path, **inputs: str) -> RunResult:
    return api.run(playbook, env=str(env), inputs=inputs, stream=io.StringIO(), store=False)


def test_an_xpath_with_declared_namespaces_reads_a_propfind_answer(tmp_path: Path,
                                                                   env: Path) -> None:
    playbook = _playbook(tmp_path, '{xpath: "//D:response/D:href/text()", '
                                   'namespaces: {D: "DAV:"}, all: true}')
    result = _run(playbook, env)
    assert result.status == "passed", result.error
    assert sorted(result.steps[0].extracted["hrefs"]) == ["/", "/notes.txt", "/report.txt"]


def test_an_undeclared_prefix_is_refused_at_validate_time(tmp_path: Path) -> None:
    playbook = _playbook(tmp_path, '{xpath: "//D:href/text()", all: true}')
    done = cli("validate", str(playbook))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{playbook}:15:7: step 'list' > extract > hrefs:" in done.stderr, done.stderr
    assert "uses the namespace prefix 'D', which is not declared" in done.stderr
    assert 'namespaces: {D: "URI"}' in done.stderr and "Traceback" not in done.stderr
    with pytest.raises(PlaybookError):  # and a run never starts
        api.validate([playbook])


def test_namespaces_go_with_xpath_only(tmp_path: Path) -> None:
    playbook = _playbook(tmp_path, '{jsonpath: "$.a", namespaces: {D: "DAV:"}}')
    done = cli("validate", str(playbook))
    assert done.returncode == 2
    assert "namespaces: go with an xpath: extraction, not with jsonpath:" in done.stderr


def test_an_undeclared_prefix_found_at_run_time_is_a_step_error(tmp_path: Path,
                                                                env: Path) -> None:
    """An XPath that comes from an input cannot be checked before the run: the step fails
    with the prefix, and the URI the answer declares for it; the finally step still runs;
    the run is failed, not passed and not an internal error."""
    playbook = _playbook(tmp_path, '{xpath: "{{ inputs.path }}", all: true}')
    result = _run(playbook, env)
    assert result.status == "failed", result.error
    assert result.failed_step == "step 'list'"
    assert "uses the namespace prefix 'D', which is not declared" in (result.error or "")
    assert result.hint == ('the answer declares D as "DAV:": write namespaces: {D: "DAV:"} '
                           "on the extraction")
    assert [s.step_id for s in result.steps] == ["list", "again"]
    assert result.steps[1].status == "passed"


def test_a_header_value_outside_latin1_is_a_clear_step_error(tmp_path: Path,
                                                             env: Path) -> None:
    playbook = _playbook(tmp_path, '{xpath: "count(//D:href)", namespaces: {D: "DAV:"}}')
    assert _run(playbook, env, title="café").status == "passed"  # Latin-1 goes as it is
    result = _run(playbook, env, title="it’s")
    assert result.status == "failed", result.error
    assert result.failed_step == "step 'list'"
    assert result.error == (f"{playbook}:8: era: header 'X-Title' has a character HTTP "  # its line
                            "headers cannot carry (U+2019 at position 3: header values are Latin-1 "
                            "bytes, and RFC 9110 asks for ASCII), so it is not sent")
    assert "urlencode" in (result.hint or "")
    assert result.steps[0].attempts == 0 and not result.steps[0].exchanges  # never sent
    assert result.steps[1].status == "passed"  # the finally step ran


def test_a_header_value_with_a_line_break_is_not_sent(tmp_path: Path, env: Path) -> None:
    playbook = _playbook(tmp_path, '{xpath: "count(//D:href)", namespaces: {D: "DAV:"}}')
    result = _run(playbook, env, title="one\r\nX-Injected: yes")
    assert result.status == "failed"
    assert "header 'X-Title' has a line break or NUL at position 4" in (result.error or "")

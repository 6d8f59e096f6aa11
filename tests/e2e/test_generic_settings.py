"""The environment file's keying rule and the check at run start: a connector alias with no
settings block is named before anything is sent (it used to be found at its first call, after
earlier steps had gone out); a block keyed by the connector's name serves its aliases."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from wsgi_servers import httpbin

from runner import api
from runner.errors import InvalidInput
from runner.results import PASSED
from runner.secrets import Redactor

PLAYBOOK = """\
name: two
connectors:
  first: {use: http}
  second: {use: http}
steps:
  - {id: one, call: first, method: POST, path: /anything/one}
  - {id: two, call: second, method: GET, path: /get}
"""


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with httpbin() as url:
        yield url


def _run(tmp_path: Path, env_text: str) -> str:
    env = tmp_path / "env.yaml"
    env.write_text(env_text)
    pb = tmp_path / "pb.yaml"
    pb.write_text(PLAYBOOK)
    out = io.StringIO()
    return api.run(pb, env=str(env), stream=out, redactor=Redactor()).status


def test_an_alias_without_settings_is_named_before_the_first_request(tmp_path: Path) -> None:
    from httpbin import app
    from wsgi_servers import serving

    seen: list[str] = []

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(environ["PATH_INFO"])
        return app(environ, start_response)

    with serving(counting) as url, pytest.raises(InvalidInput) as e:
        _run(tmp_path, f"connectors:\n  first:\n    base_url: {url}\n")
    assert seen == []  # step one was not sent
    assert "connector 'second' (http) has no settings in" in e.value.message
    assert "connectors.second:" in (e.value.hint or "")
    assert "connectors.http:" in (e.value.hint or "")


def test_an_unknown_auth_scheme_fails_at_run_start(tmp_path: Path, base: str) -> None:
    with pytest.raises(InvalidInput, match="auth 'kerberos' is not a scheme"):
        _run(tmp_path, f"connectors:\n  http:\n    base_url: {base}\n    auth: kerberos\n")


def test_the_connector_name_serves_every_alias_without_a_block(tmp_path: Path,
                                                               base: str) -> None:
    assert _run(tmp_path, f"connectors:\n  http:\n    base_url: {base}\n") == PASSED
    # an alias's own block wins over the shared one
    status = _run(tmp_path, f"connectors:\n  http:\n    base_url: {base}\n"
                  "  second:\n    base_url: http://127.0.0.1:9\n    connect_timeout: 1\n")
    assert status != PASSED


def test_an_unset_env_reference_names_the_variable(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(InvalidInput, match="environment variable NOT_SET_ANYWHERE "
                       r"\(for first.base_url\) is not set"):
        _run(tmp_path, "connectors:\n  http:\n    base_url: {env: NOT_SET_ANYWHERE}\n")


def test_plan_shows_an_unset_variable_as_a_placeholder(tmp_path: Path) -> None:
    from helpers import cli

    env = tmp_path / "env.yaml"
    env.write_text("connectors:\n  http:\n    base_url: {env: PLAN_ONLY_URL}\n"
                   "    auth: bearer\n    token: {secret: PLAN_ONLY_TOKEN}\n")
    pb = tmp_path / "pb.yaml"
    pb.write_text(PLAYBOOK)
    proc = cli("plan", str(pb), "--env", str(env))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "<env:base_url>/anything/one" in proc.stdout, proc.stdout
    proc = cli("plan", str(pb), "--env", str(env), env={"PLAN_ONLY_URL": "https://h.example"})
    assert "https://h.example/get" in proc.stdout, proc.stdout


def test_a_setting_template_reading_an_undeclared_input_is_refused_at_validate(
        tmp_path: Path) -> None:
    """Settings may read the run's inputs (tests/e2e/test_settings_from_inputs.py), declared
    ones only."""
    from runner.errors import PlaybookError
    from runner.playbook import load_playbook

    pb = tmp_path / "pb.yaml"
    pb.write_text(PLAYBOOK.replace("first: {use: http}",
                                   "first: {use: http, settings: {base_url: '{{ inputs.u }}'}}"))
    with pytest.raises(PlaybookError, match="setting 'base_url' reads input 'u', which the "
                       "playbook does not declare") as e:
        load_playbook(pb)
    assert e.value.location is not None and e.value.location.line == 3
    assert "declared inputs: none" in (e.value.hint or "")

"""A playbook that calls a connector's login itself (``call: desk.login`` or ``call:
auto.auth``, or a raw POST to the login path) gets the token in its answer; that token is as
secret as the one the auth flow gets. Before, the flow's token was masked everywhere but the
direct call's answer was recorded as it came: the console with ``-v``, the JSON and HTML
reports, the run's record and its journal in the store (``runner show --json``) held it. Real
``runner run`` processes against authlib's OAuth2 server (tests/oauth_server.py) and the
Automatos simulator; every output and the store file are searched."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import cli
from oauth_server import CLIENT_ID, CLIENT_SECRET, OAuthServer, oauth_server

from runner.errors import EXIT_OK


@pytest.fixture()
def server() -> Iterator[OAuthServer]:
    with oauth_server(expires_in=3600) as s:
        yield s


def _outputs(tmp_path: Path, playbook: str, env_text: str | None,
             env: dict[str, str], *extra: str) -> tuple[str, str]:
    """Run ``playbook`` (-v, both reports, a store in ``tmp_path``), then ``runner show
    --json`` of it: everything the run wrote, and its record as ``show`` prints it."""
    (tmp_path / "pb.yaml").write_text(playbook)
    args = ["run", "pb.yaml", "-v", "--report-json", "r.json", "--report-html", "r.html", *extra]
    if env_text is not None:
        (tmp_path / "env.yaml").write_text(env_text)
        args += ["--env", "env.yaml"]
    env = {**env, "RUNNER_STORE": str(tmp_path / "runs.db")}
    run = cli(*args, cwd=tmp_path, env=env)
    assert run.returncode == EXIT_OK, run.stdout + run.stderr
    run_id = re.search(r"\d{8}-\d{6}-[0-9a-f]{6}", run.stdout + run.stderr)
    assert run_id, run.stdout + run.stderr
    show = cli("show", run_id[0], "--json", cwd=tmp_path, env=env)
    assert show.returncode == EXIT_OK, show.stderr
    everything = "\n".join([run.stdout, run.stderr, show.stdout,
                            (tmp_path / "r.json").read_text(), (tmp_path / "r.html").read_text(),
                            (tmp_path / "runs.db").read_bytes().decode("latin-1")])
    return everything, show.stdout


ENV = """\
connectors:
  desk:
    base_url: {url}
    auth: login
    login_token: $.data.jwt
    username: CLIENT
    password: {{secret: DESK_PW}}
""".replace("CLIENT", CLIENT_ID)


@pytest.mark.parametrize("login", [
    "call: desk.login",
    # the same POST written as a raw call: the login path is the connector's
    "call: desk\n    method: POST\n    path: /login\n"
    "    json: {username: " + CLIENT_ID + ", password: '{{ inputs.pw }}'}",
])
def test_a_login_called_by_the_playbook_has_its_token_masked(
        tmp_path: Path, server: OAuthServer, login: str) -> None:
    playbook = f"""\
name: direct login
inputs:
  pw: {{type: string, secret: true}}
connectors:
  desk: {{use: http}}
steps:
  - id: login
    {login}
    assert: "response.json.data.jwt | length > 0"
  - id: get
    call: desk
    method: GET
    path: /api/tickets
    assert: "response.json.path == 'tickets'"
"""
    everything, show = _outputs(tmp_path, playbook, ENV.format(url=server.url),
                                {"DESK_PW": CLIENT_SECRET}, "-i", f"pw={CLIENT_SECRET}")
    tokens = [t.access_token for t in server.issued]
    assert len(tokens) == 2, tokens  # the playbook's login and the flow's own
    for token in tokens:
        assert token not in everything
    assert CLIENT_SECRET not in everything
    steps = json.loads(show)["report"]["steps"]
    assert '\\"jwt\\":\\"***\\"' in json.dumps(steps[0]), steps[0]


def test_automatos_auth_called_as_a_step_has_its_token_masked(tmp_path: Path) -> None:
    """``call: auto.auth`` in the sandbox: the simulator's token (32 hex digits) is in no
    output; the answer reads ``"token": "***"``."""
    playbook = """\
name: direct auth
connectors:
  auto: {use: automatos}
steps:
  - id: login
    call: auto.auth
  - id: find
    call: auto.get_machine
    with: {hostname: NTB2}
"""
    everything, show = _outputs(tmp_path, playbook, None, {})
    body = json.loads(show)["report"]["steps"][0]
    assert '\\"token\\": \\"***\\"' in json.dumps(body), body
    assert not re.search(r"[0-9A-F]{32}", everything)

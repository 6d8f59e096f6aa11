"""An operation's ``body:`` template in a connector file of the user's own repository (a SOAP
envelope with its parameters in it), and ``save-to`` / ``follow-redirects`` on an operation's
call step, against httpbin on loopback; two bodies on one operation are refused with the
connector file's line."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import cli
from wsgi_servers import httpbin

from runner import api
from runner.results import PASSED
from runner.secrets import Redactor

SOAP = """\
name: soapdesk
settings:
  base_url: {required: true}
  password: {required: true, secret: true}
auth: {scheme: none}
operations:
  get_ticket:
    method: POST
    path: /anything/soap
    headers: {Content-Type: "text/xml; charset=utf-8", SOAPAction: GetTicket}
    params:
      id: {type: integer, required: true}
    body: >-
      <Envelope><Body><GetTicket><Id>{{ id }}</Id>
      <Pw>{{ settings.password }}</Pw></GetTicket></Body></Envelope>
  moved:
    method: GET
    path: /redirect-to
    params:
      url: {type: string, required: true}
  blob:
    method: GET
    path: /bytes/{n}
    params:
      n: {type: integer, required: true, in: path}
"""
PLAYBOOK = """\
name: soap
connectors:
  desk: {use: soapdesk}
steps:
  - id: get
    call: desk.get_ticket
    with: {id: 42}
    assert:
      - "response.json.data.startswith('<Envelope><Body><GetTicket><Id>42</Id>')"
      - "response.json.json == none and response.json.form == {}"
      - "response.json.headers['Soapaction'] == 'GetTicket'"
  - id: moved
    call: desk.moved
    with: {url: /get}
    follow-redirects: false
    assert: ["response.status_code == 302", "response.headers.location == '/get'"]
  - id: blob
    call: desk.blob
    with: {n: 500}
    save-to: blob.bin
    assert: "response.size == 500"
"""
PASSWORD = "Soap-Pa55word-Zr4"


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with httpbin() as url:
        yield url


def _repo(root: Path, base: str, connector: str = SOAP) -> tuple[Path, Path]:
    (root / "connectors").mkdir()
    (root / "connectors" / "soapdesk.yaml").write_text(connector)
    pb = root / "soap.yaml"
    pb.write_text(PLAYBOOK)
    env = root / "env.yaml"
    env.write_text(f"connectors:\n  desk:\n    base_url: {base}\n"
                   "    password: {secret: SOAP_PW}\n")
    return pb, env


def test_an_operation_body_template(tmp_path: Path, base: str,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOAP_PW", PASSWORD)
    monkeypatch.chdir(tmp_path)
    pb, env = _repo(tmp_path, base)
    out = io.StringIO()
    result = api.run(pb, env=str(env), stream=out, redactor=Redactor(), store=False)
    assert result.status == PASSED, out.getvalue()
    request = result.steps[0].exchanges[0].request
    assert request["body"].startswith("<Envelope><Body><GetTicket><Id>42</Id>")
    assert "json" not in request  # the parameter went into the template, not a JSON body
    assert (tmp_path / "blob.bin").stat().st_size == 500


def test_an_operation_with_two_bodies_is_refused(tmp_path: Path, base: str) -> None:
    pb, _env = _repo(tmp_path, base, SOAP.replace(
        "    body: >-\n", "    json: {id: 1}\n    body: >-\n"))
    done = cli("validate", str(pb))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "operation 'get_ticket' has both 'json' and 'body'" in done.stderr, done.stderr
    assert f"{tmp_path / 'connectors' / 'soapdesk.yaml'}:" in done.stderr

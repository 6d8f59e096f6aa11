"""A resumed run never sends a secret's mask (`***`) to a vendor.

The journal keeps every value that holds a secret masked. A resume put such a value back as
`***` and a later step sent it (a header, a token to rotate to): the vendor got `***` and the
run passed. Now the value is put back withheld: the step that reads it fails before anything
is sent, saying why. The step that made it is not run again, safe or not: a safe call made
before an unsafe one would answer with what that one changed (a rotation's previous token would
come back as the new one). Real `runner` processes against a WSGI app on cheroot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from helpers import cli

from tests.wsgi_servers import serving

SECRET = "rotated-s3cret-4417-value"


class Vendor:
    """``/echo`` and ``POST /make`` answer the ``k`` they are given; ``/gate`` fails its
    first call (HTTP 500) and records the header each call carried."""

    def __init__(self) -> None:
        self.gates: list[str] = []
        self.echoes = 0
        self.makes = 0

    def __call__(self, environ: dict[str, Any], start: Any) -> list[bytes]:
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        status, body = "200 OK", {}
        if path == "/echo":
            self.echoes += 1
            body = {"k": parse_qs(environ.get("QUERY_STRING", "")).get("k", [""])[0]}
        elif path == "/make" and method == "POST":
            self.makes += 1
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = {"k": json.loads(environ["wsgi.input"].read(size))["k"]}
        elif path == "/gate":
            self.gates.append(environ.get("HTTP_X_T", ""))
            if len(self.gates) == 1:
                status, body = "500 Internal Server Error", {"error": "not yet"}
        start(status, [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]


PLAYBOOK = """\
name: a secret made before the failure
inputs:
  base: {type: string}
  key: {type: string, secret: true}
connectors:
  h: {use: http, settings: {base_url: "{{ inputs.base }}"}}
steps:
  - id: made
%s
    extract: {t: $.k}
  - id: gate
    call: h
    method: GET
    path: /gate
    headers: {X-T: "{{ t }}"}
    retry: false
"""
SAFE = """    call: h
    method: GET
    path: /echo
    query: {k: "{{ inputs.key }}"}"""
UNSAFE = """    call: h
    method: POST
    path: /make
    json: {k: "{{ inputs.key }}"}"""


@pytest.fixture
def vendor() -> Iterator[tuple[str, Vendor]]:
    app = Vendor()
    with serving(app) as url:
        yield url, app


def first_run(tmp_path: Path, body: str, url: str) -> str:
    (tmp_path / "pb.yaml").write_text(PLAYBOOK % body)
    run = cli("run", "pb.yaml", "--env", "none", "-i", f"base={url}", "-i", f"key={SECRET}",
              "--store", str(tmp_path / "runs.db"), cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr  # the gate's first answer is a 500
    return next(w for w in run.stdout.split() if w.count("-") == 2 and w[:8].isdigit())


@pytest.mark.parametrize("made", [SAFE, UNSAFE], ids=["by a safe call", "by an unsafe call"])
def test_a_masked_value_is_never_sent(tmp_path: Path, vendor: tuple[str, Vendor],
                                      made: str) -> None:
    url, app = vendor
    run_id = first_run(tmp_path, made, url)
    resumed = cli("resume", run_id, "-i", f"key={SECRET}", "--store", str(tmp_path / "runs.db"),
                  cwd=tmp_path)
    out = resumed.stdout + resumed.stderr
    assert resumed.returncode == 1, out
    assert app.makes + app.echoes == 1  # the step that made it is put back, not run again
    assert app.gates == [SECRET]  # the gate was not called again with "***"
    assert "'t' was put back by the resume, and the journal keeps masked what holds a " \
        "secret" in out
    assert "start a new run" in out and SECRET not in out and "Traceback" not in out

"""Answers an attacker (or a broken vendor) could send: none is evaluated, read from disk or
the network, or allowed to exhaust memory; each ends in a value kept as data or a clear error."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import cli, run_playbook

from runner.simulator import Simulator, route
from runner.simulator_messages import Reply, Request

XXE = (b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
       b"<page><name>&x;</name></page>")
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
          b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
          b"<page><name>&c;</name></page>")


class Hostile(Simulator):
    name = "hostile"
    seen: list[bytes]

    def __init__(self) -> None:
        super().__init__()
        self.seen = []

    @route("POST", "/auth")
    def auth(self, req: Request) -> Reply:  # the automatos connector logs in first
        return Reply(200, b'{"status": true, "data": {"token": "hostile-token"}}',
                     {"Content-Type": "application/json"})

    @route("GET", "/xxe")
    def xxe(self, req: Request) -> Reply:
        return Reply(200, XXE, {"Content-Type": "application/xml"})

    @route("GET", "/laughs")
    def laughs(self, req: Request) -> Reply:
        return Reply(200, LAUGHS, {"Content-Type": "application/xml"})

    @route("GET", "/template")
    def template(self, req: Request) -> Reply:
        body = {"name": "{{ 7 * 7 }}", "cmd": "{{ ''.__class__.__mro__ }}"}
        return Reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    @route("POST", "/echo")
    def echo(self, req: Request) -> Reply:
        self.seen.append(req.body)
        return Reply(200, b'{"ok": true}', {"Content-Type": "application/json"})

    @route("GET", "/huge")
    def huge(self, req: Request) -> Reply:
        return Reply(200, b"[" + b'"x",' * 500_000 + b'"x"]', {"Content-Type": "application/json"})

    @route("GET", "/latin1")
    def latin1(self, req: Request) -> Reply:
        return Reply(200, b'\xff\xfe{"id": "caf\xe9"} id=42', {"Content-Type": "application/json"})

    @route("GET", "/backtrack")
    def backtrack(self, req: Request) -> Reply:
        return Reply(200, b"a" * 41 + b"!", {"Content-Type": "text/plain"})

    @route("GET", "/repeated")
    def repeated(self, req: Request) -> Reply:
        return Reply(200, b'{"ext": {"ct": "first"}, "ext": {"ct": "last"}}',
                     {"Content-Type": "application/json"})


@pytest.fixture(scope="module")
def hostile() -> Iterator[Hostile]:
    h = Hostile()
    h.start()
    yield h
    h.stop()


def playbook(tmp_path: Path, steps: str) -> Path:
    p = tmp_path / "hostile.yaml"
    p.write_text("name: hostile answers\nconnectors:\n  h: {use: automatos, settings: "
                 "{max_response_bytes: 1000000}}\nsteps:\n" + steps)
    return p


def env(tmp_path: Path, hostile: Hostile) -> str:
    e = tmp_path / "env.yaml"
    e.write_text(f"connectors:\n  h:\n    base_url: {hostile.url}\n    automatos_id: '1'\n"
                 f"    automatos_key: {{secret: HOSTILE_KEY}}\n")
    return str(e)


def run(tmp_path: Path, hostile: Hostile, steps: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HOSTILE_KEY", "not-used-here")
    return run_playbook(playbook(tmp_path, steps), tmp_path, env=env(tmp_path, hostile))


def test_xml_external_entities_are_not_read(tmp_path: Path, hostile: Hostile,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(tmp_path, hostile, """\
  - call: h
    method: GET
    path: /xxe
    extract: {name: /page/name}
""", monkeypatch)
    assert out.result.status == "failed"
    assert "declares entities, which are refused" in (out.result.error or "")
    assert "root:" not in out.outputs()


def test_entity_expansion_is_refused(tmp_path: Path, hostile: Hostile,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(tmp_path, hostile, "  - {call: h, method: GET, path: /laughs, "
              "extract: {name: /page/name}}\n", monkeypatch)
    assert out.result.status == "failed" and "entities" in (out.result.error or "")


def test_templates_in_answers_stay_data(tmp_path: Path, hostile: Hostile,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(tmp_path, hostile, """\
  - call: h
    method: GET
    path: /template
    extract: {name: $.name, cmd: $.cmd}
  - call: h
    method: POST
    path: /echo
    json: {got: "{{ name }}", also: "name={{ name }} cmd={{ cmd }}"}
  - assert:
      - that: "name == '{{ 7 * 7 }}'"
        message: "name was {{ name }}"
""", monkeypatch)
    assert out.result.status == "passed", out.console
    sent = json.loads(hostile.seen[-1])
    assert sent == {"got": "{{ 7 * 7 }}",
                    "also": "name={{ 7 * 7 }} cmd={{ ''.__class__.__mro__ }}"}


def test_huge_answers_are_refused(tmp_path: Path, hostile: Hostile,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(tmp_path, hostile, "  - {call: h, method: GET, path: /huge}\n", monkeypatch)
    assert out.result.status == "failed"
    assert "over the limit of 1,000,000" in (out.result.error or "")


def test_invalid_utf8_is_text_with_replacements(tmp_path: Path, hostile: Hostile,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(tmp_path, hostile, """\
  - call: h
    method: GET
    path: /latin1
    extract: {id: {regex: 'id=(\\d+)'}}
  - call: h
    method: GET
    path: /latin1
    extract: {nope: $.id}
""", monkeypatch)
    assert out.result.steps[0].extracted == {"id": "42"}
    assert out.result.status == "failed"
    assert "extract nope: jsonpath '$.id' matched nothing" in (out.result.error or "")


def test_repeated_json_keys_keep_the_last(tmp_path: Path, hostile: Hostile,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(tmp_path, hostile, "  - {call: h, method: GET, path: /repeated, "
              "extract: {ct: $.ext.ct}}\n", monkeypatch)
    assert out.result.status == "passed"
    assert out.result.steps[0].extracted == {"ct": "last"}


def test_a_backtracking_regex_cannot_hang_the_run(tmp_path: Path, hostile: Hostile) -> None:
    # (a+)+$ on 41 a's and a '!' takes Python's re 2**41 steps; RE2 answers in microseconds. A
    # real process, so the test ends (the process killed) even where the match would not.
    book = playbook(tmp_path, "  - {call: h, method: GET, path: /backtrack, "
                    "extract: {tail: {regex: '(a+)+$', default: none}}}\n")
    started = time.monotonic()
    proc = cli("run", str(book), "--env", env(tmp_path, hostile),
               env={"HOSTILE_KEY": "not-used-here"}, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 20

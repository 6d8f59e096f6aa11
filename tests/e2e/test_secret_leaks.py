"""Secrets never leak, in whatever form the engine puts them on the wire or derives them, with
a real server that echoes every request back (points 2-4 of "nothing leaks" in issue 11)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from leakcheck import Echo, echo_env, every_output, playbook, started

TRICKY = 'ä"n4styZx91'  # a quote and a non-ASCII letter: every JSON form differs
CORE = "n4styZx91"  # in every wire form of TRICKY: a leak in any form shows it
FORMS = [TRICKY, 'ä\\"n4styZx91', '\\u00e4\\"n4styZx91', "%C3%A4%22n4styZx91",
         "%5Cu00e4%5C%22n4styZx91"]  # raw, JSON body, ASCII JSON, query/form, JSON in a query


@pytest.fixture(scope="module")
def echo() -> Iterator[Echo]:
    yield from started(Echo())  # type: ignore[misc]


def test_a_secret_echoed_back_in_every_wire_form_is_redacted(tmp_path: Path, echo: Echo) -> None:
    pb = playbook(tmp_path, """\
inputs:
  pw: {type: string, secret: true}
steps:
  - {id: body, call: h, method: POST, path: /echo/json, json: {pw: "{{ inputs.pw }}"}}
  - {id: form, call: h, method: POST, path: /echo/form, form: {pw: "{{ inputs.pw }}"}}
  - {id: query, call: h, method: GET, path: /echo/q, query: {pw: "{{ inputs.pw }}"}}
  - {id: nested, call: h, method: GET, path: /echo/n, query: {f: {pw: "{{ inputs.pw }}"}}}
  - assert:
      that: "false"
      message: >-
        the server said {{ steps.body.response.text }} {{ steps.form.response.text }}
        {{ steps.query.response.text }} {{ steps.nested.response.text }}
""")
    out = every_output(tmp_path, pb, echo_env(tmp_path, echo), {"pw": TRICKY})
    assert "the server said /echo/json" in out.run, out.run  # the echoes reached the console
    assert out.run_id and "report html" in out.texts
    for form in FORMS:
        assert not out.find(form), form
    assert not out.find(CORE), out.find(CORE)


def test_a_value_derived_from_a_secret_input_is_redacted_everywhere(
        tmp_path: Path, echo: Echo) -> None:
    secret = "pl41n-s3cret-value"
    derived = base64.b64encode(secret.encode()).decode()
    pb = playbook(tmp_path, """\
inputs:
  pw: {type: string, secret: true}
  user: {type: string, default: admin}
steps:
  - id: login
    call: h
    method: POST
    path: /echo/login
    headers: {X-Auth: "{{ (inputs.user ~ ':' ~ inputs.pw) | b64encode }}"}
    json: {token: "{{ inputs.pw | b64encode }}", upper: "{{ inputs.pw | upper }}"}
    extract: {said: {regex: '(.*)'}}
  - assert: "said == 'never'"
""")
    out = every_output(tmp_path, pb, echo_env(tmp_path, echo), {"pw": secret})
    assert out.run_id and "plan" in out.texts
    assert "/echo/login" in out.texts["plan"], out.texts["plan"]
    pair = base64.b64encode(f"admin:{secret}".encode()).decode()
    for value in (secret, derived, secret.upper(), pair):
        assert not out.find(value), (value, out.find(value))
    assert "user" in out.texts["report json"]  # not everything is masked: the input's name is


def test_an_assert_message_masks_only_the_secret(tmp_path: Path, echo: Echo) -> None:
    secret = "m4sk-only-th1s"
    pb = playbook(tmp_path, """\
inputs:
  pw: {type: string, secret: true}
steps:
  - call: h
    method: GET
    path: /echo/status
  - assert:
      that: "response.status_code == 201"
      message: "login with {{ inputs.pw | upper }} got {{ response.status_code }} from the echo"
""")
    out = every_output(tmp_path, pb, echo_env(tmp_path, echo), {"pw": secret})
    assert "login with *** got 200 from the echo" in out.run, out.run
    assert not out.find(secret.upper()) and not out.find(secret)


def test_an_included_playbook_keeps_a_secret_passed_to_it_secret(tmp_path: Path,
                                                                  echo: Echo) -> None:
    secret = "n3sted-s3cret"
    (tmp_path / "sub.yaml").write_text("""\
name: sub
connectors:
  h: {use: automatos}
inputs:
  token: {type: string}
steps:
  - {call: h, method: POST, path: /echo/sub, json: {t: "{{ inputs.token | b64encode }}"}}
""")
    pb = playbook(tmp_path, """\
inputs:
  pw: {type: string, secret: true}
steps:
  - {id: inner, include: sub.yaml, with: {token: "{{ inputs.pw | upper }}"}}
""")
    out = every_output(tmp_path, pb, echo_env(tmp_path, echo), {"pw": secret})
    assert out.run_id and "/echo/sub" in out.texts["report json"]
    derived = base64.b64encode(secret.upper().encode()).decode()
    for value in (secret, secret.upper(), derived):
        assert not out.find(value), (value, out.find(value))

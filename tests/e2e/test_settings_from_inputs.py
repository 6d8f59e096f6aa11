"""Connector settings from the run's inputs (issue 13): ``settings: {base_url: "{{
inputs.api_url }}"}`` in the playbook that is run, so CI with dynamic ports passes
``-i api_url=...`` and needs no generated file. The CLI runs as a whole process against
httpbin (a header setting from a secret input is echoed by ``/headers`` and is in no output),
``runner validate`` refuses what a setting may not read, ``runner plan`` renders with the
inputs it is given, a batch renders each row's own, and a resumed run asks for its secret
input again and renders the same settings."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import cli
from wsgi_servers import httpbin, serving

TOKEN = "tok-7f3a9c2e51d84b60"  # a secret input's value: searched for in every output

PLAYBOOK = """\
name: settings-from-inputs
inputs:
  api_url: {type: string}
  token: {type: string, secret: true}
  tenant: {type: string, default: acme}
  code: {type: integer, default: 200}
connectors:
  api:
    use: http
    settings:
      base_url: "{{ inputs.api_url }}"
      headers: {X-Token: "{{ inputs.token }}", X-Tenant: "t-{{ inputs.tenant }}"}
steps:
  - id: echo
    call: api
    method: GET
    path: /headers
    assert:
      - "response.json.headers['X-Token'] == inputs.token"
      - "response.json.headers['X-Tenant'] == 't-' ~ inputs.tenant"
    extract: {seen: "$.headers['X-Token']"}
  - id: status
    call: api
    method: GET
    path: "/status/{{ inputs.code }}"
    assert: "response.status_code == 200"
outputs:
  seen: "{{ seen }}"
"""


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with httpbin() as url:
        yield url


def _files(tmp_path: Path, text: str = PLAYBOOK) -> tuple[Path, Path]:
    pb = tmp_path / "pb.yaml"
    pb.write_text(text)
    env = tmp_path / "ci.yaml"
    env.write_text("description: a CI job; the API's URL comes from -i api_url=...\n")
    return pb, env


def _no_token(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text


def test_base_url_and_a_secret_header_from_inputs_run_green_and_never_show(
        tmp_path: Path, base: str) -> None:
    pb, env = _files(tmp_path)
    store, report, html = tmp_path / "runs.db", tmp_path / "r.json", tmp_path / "r.html"
    done = cli("run", str(pb), "--env", str(env), "-i", f"api_url={base}", "-i",
               f"token={TOKEN}", "--store", str(store), "--report-json", str(report),
               "--report-html", str(html))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"api_url={base}" in done.stdout and "token=***" in done.stdout
    assert "seen = ***" in done.stdout  # httpbin echoed the header: the run saw it, masked
    as_json = cli("run", str(pb), "--env", str(env), "-i", f"api_url={base}", "-i",
                  f"token={TOKEN}", "--store", str(store), "--log-format", "json")
    assert as_json.returncode == 0, as_json.stdout + as_json.stderr
    assert [json.loads(line) for line in as_json.stdout.splitlines()]  # JSON lines
    history = cli("history", "--store", str(store), "--json")
    run_id = json.loads(history.stdout.splitlines()[0])["run_id"]
    shown = cli("show", run_id, "--store", str(store))
    assert shown.returncode == 0, shown.stdout + shown.stderr
    _no_token(done.stdout, done.stderr, as_json.stdout, as_json.stderr, history.stdout,
              shown.stdout, report.read_text(), html.read_text())
    assert TOKEN.encode() not in store.read_bytes()
    with sqlite3.connect(store) as db:  # every table, every column
        tables = [t for (t,) in db.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            _no_token(*(str(row) for row in db.execute(f"select * from {table}")))


def test_a_setting_from_a_declared_secret_setting_reads_a_secret_input(
        tmp_path: Path, base: str) -> None:
    """http's ``password`` is declared secret: a literal is refused, a secret input is not."""
    pb, env = _files(tmp_path, """\
name: basic
inputs:
  api_url: {type: string}
  password: {type: string, secret: true}
connectors:
  api:
    use: http
    settings: {base_url: "{{ inputs.api_url }}", auth: basic, username: ops,
               password: "{{ inputs.password }}"}
steps:
  - {id: in, call: api, method: GET, path: "/basic-auth/ops/{{ inputs.password }}",
     assert: "response.status_code == 200"}
""")
    done = cli("run", str(pb), "--env", str(env), "-i", f"api_url={base}",
               "-i", f"password={TOKEN}")
    assert done.returncode == 0, done.stdout + done.stderr
    _no_token(done.stdout, done.stderr)
    pb.write_text(pb.read_text().replace("password: {type: string, secret: true}",
                                         "password: {type: string}"))
    refused = cli("validate", str(pb))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "pb.yaml:9:" in refused.stderr
    assert "'password' is a secret and must not be written in a playbook" in refused.stderr


@pytest.mark.parametrize(("change", "message", "hint"), [
    ("t-{{ inputs.tennant }}", "setting 'headers' reads input 'tennant', which the playbook "
     "does not declare", "did you mean 'tenant'? declared inputs: api_url, token, tenant, code"),
    ("{{ secrets.tenant }}", "setting 'headers' reads 'secrets': settings may read inputs "
     "only", "connectors.api.headers.X-Tenant: {secret: NAME}"),
    ("{{ steps.echo.seen }}", "setting 'headers' reads 'steps': settings may read inputs only",
     "{secret: NAME}"),
    ("{{ inputs }}", "setting 'headers' reads inputs as a whole", "read each input by name"),
])
def test_validate_refuses_what_a_setting_may_not_read(tmp_path: Path, change: str,
                                                      message: str, hint: str) -> None:
    pb, _ = _files(tmp_path, PLAYBOOK.replace("t-{{ inputs.tenant }}", change))
    done = cli("validate", str(pb))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "pb.yaml:12:" in done.stderr and message in done.stderr, done.stderr
    assert hint in done.stderr and "Traceback" not in done.stderr


def test_an_included_playbooks_setting_template_is_refused_naming_the_include(
        tmp_path: Path, base: str) -> None:
    (tmp_path / "inc.yaml").write_text("""\
name: inc
inputs:
  u: {type: string}
connectors:
  api: {use: http, settings: {base_url: "{{ inputs.u }}"}}
steps:
  - {id: get, call: api, method: GET, path: /get}
""")
    top = tmp_path / "top.yaml"
    top.write_text("""\
name: top
inputs:
  api_url: {type: string}
connectors:
  api: {use: http, settings: {base_url: "{{ inputs.api_url }}"}}
steps:
  - id: sub
    include: inc.yaml
    with: {u: "{{ inputs.api_url }}"}
""")
    assert cli("validate", str(tmp_path / "inc.yaml")).returncode == 0  # run alone: fine
    done = cli("validate", str(top))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "inc.yaml:5:" in done.stderr and "this playbook is included (at " in done.stderr
    assert f"{top}:8:" in done.stderr  # the include step
    assert "declare connector 'api' with this setting in the playbook that is run" \
        in done.stderr
    # the rule's way out: the running playbook declares it, the include only uses the alias
    (tmp_path / "inc.yaml").write_text((tmp_path / "inc.yaml").read_text().replace(
        ', settings: {base_url: "{{ inputs.u }}"}', ""))
    _, env = _files(tmp_path)
    ran = cli("run", str(top), "--env", str(env), "-i", f"api_url={base}")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    planned = cli("plan", str(top), "--env", str(env), "-i", f"api_url={base}")
    assert f"[{base}/get]" in planned.stdout, planned.stdout + planned.stderr


def test_plan_renders_with_the_inputs_given_and_a_placeholder_for_one_not_given(
        tmp_path: Path) -> None:
    pb, env = _files(tmp_path, PLAYBOOK.replace('"{{ inputs.api_url }}"',
                                                '"{{ inputs.api_url }}/v1"'))
    given = cli("plan", str(pb), "--env", str(env), "-i", "api_url=http://127.0.0.1:1",
                "-i", f"token={TOKEN}")
    assert given.returncode == 0, given.stdout + given.stderr
    assert "[http://127.0.0.1:1/v1/headers]" in given.stdout, given.stdout
    not_given = cli("plan", str(pb), "--env", str(env))
    assert not_given.returncode == 0, not_given.stdout + not_given.stderr
    assert "[<input:api_url>/v1/headers]" in not_given.stdout, not_given.stdout
    _no_token(given.stdout, given.stderr)
    bad = cli("plan", str(pb), "--env", str(env), "-i", "api_url=ftp://127.0.0.1:1")
    assert bad.returncode == 2 and "must be an http:// or https:// URL" in bad.stderr
    # an optional input with no default, not given: a placeholder too (a run would stop)
    pb.write_text(pb.read_text().replace("  tenant: {type: string, default: acme}",
                                         "  tenant: {type: string, required: false}"))
    optional = cli("plan", str(pb), "--env", str(env), "-i", "api_url=http://127.0.0.1:1")
    assert optional.returncode == 0, optional.stdout + optional.stderr
    assert "[http://127.0.0.1:1/v1/headers]" in optional.stdout, optional.stdout
    # a typed input not given, in a number setting: a placeholder, not a type error
    pb.write_text(pb.read_text().replace("inputs:\n", "inputs:\n  wait: {type: integer}\n")
                  .replace("      headers:", "      read_timeout: \"{{ inputs.wait }}\"\n"
                           "      headers:"))
    typed = cli("plan", str(pb), "--env", str(env), "-i", "api_url=http://127.0.0.1:1")
    assert typed.returncode == 0, typed.stdout + typed.stderr
    assert "[http://127.0.0.1:1/v1/headers]" in typed.stdout, typed.stdout


def test_a_setting_that_cannot_render_stops_the_run_before_anything_is_sent(
        tmp_path: Path) -> None:
    from httpbin import app

    seen: list[str] = []

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(environ["PATH_INFO"])
        return app(environ, start_response)

    pb, env = _files(tmp_path, PLAYBOOK.replace(
        "  tenant: {type: string, default: acme}", "  tenant: {type: string, required: false}"))
    with serving(counting) as url:
        done = cli("run", str(pb), "--env", str(env), "-i", f"api_url={url}",
                   "-i", f"token={TOKEN}")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "pb.yaml:12:" in done.stderr and "connectors.api.settings.headers" in done.stderr
    assert "reads input 'tenant', which this run has no value for" in done.stderr
    assert "-i tenant=..." in done.stderr and "Traceback" not in done.stderr
    assert seen == []
    _no_token(done.stdout, done.stderr)


def test_a_batch_renders_each_rows_settings(tmp_path: Path) -> None:
    from httpbin import app

    seen: dict[str, list[str]] = {"one": [], "two": []}

    def counting(name: str) -> Any:
        def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
            seen[name].append(environ["PATH_INFO"])
            return app(environ, start_response)
        return wsgi

    pb, env = _files(tmp_path)
    rows = tmp_path / "rows.csv"
    with serving(counting("one")) as one, serving(counting("two")) as two:
        rows.write_text(f"api_url,tenant\n{one},north\n{two},south\n")
        done = cli("run", str(pb), "--env", str(env), "--inputs-from", str(rows), "-c", "2",
                   "-i", f"token={TOKEN}", "--store", str(tmp_path / "runs.db"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed, 0 failed" in done.stdout
    assert seen == {"one": ["/headers", "/status/200"], "two": ["/headers", "/status/200"]}
    _no_token(done.stdout, done.stderr)


def test_a_resumed_run_asks_for_its_secret_input_again_and_renders_the_same_settings(
        tmp_path: Path) -> None:
    from httpbin import app

    seen: list[str] = []

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(f"{environ['PATH_INFO']} {environ.get('HTTP_X_TOKEN') == TOKEN}")
        return app(environ, start_response)

    pb, env = _files(tmp_path)
    store = str(tmp_path / "runs.db")
    with serving(counting) as url:
        first = cli("run", str(pb), "--env", str(env), "-i", f"api_url={url}",
                    "-i", f"token={TOKEN}", "-i", "code=418", "--store", store)
        assert first.returncode == 1, first.stdout + first.stderr
        run_id = json.loads(cli("history", "--store", store, "--json").stdout)["run_id"]
        asked = cli("resume", run_id, "--store", store, "-i", "code=200")
        assert asked.returncode == 2, asked.stdout + asked.stderr
        assert "missing input 'token'" in asked.stderr and "-i token=" in asked.stderr
        resumed = cli("resume", run_id, "--store", store, "-i", "code=200",
                      "-i", f"token={TOKEN}")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    # the stored api_url, the token given again: the same server, the same header
    assert seen == ["/headers True", "/status/418 True", "/status/200 True"]
    _no_token(first.stdout, asked.stdout, asked.stderr, resumed.stdout, resumed.stderr)
    assert TOKEN.encode() not in Path(store).read_bytes()


def test_sandbox_overrides_a_templated_base_url_and_renders_other_settings(
        tmp_path: Path) -> None:
    from helpers import run_playbook

    pb = tmp_path / "pb.yaml"
    pb.write_text("""\
name: sandboxed
inputs:
  url: {type: string, default: "http://127.0.0.1:9"}
  limit: {type: integer}
connectors:
  automatos:
    use: automatos
    settings: {base_url: "{{ inputs.url }}", max_response_bytes: "{{ inputs.limit }}"}
steps:
  - {id: find, call: automatos.get_machine, with: {hostname: NTB1}}
""")
    assert run_playbook(pb, tmp_path, {"limit": 1_000_000}).result.status == "passed"
    small = run_playbook(pb, tmp_path, {"limit": 10}).result
    assert small.status == "failed" and "over the limit of 10" in (small.error or ""), small.error


def test_a_timeout_from_an_input_that_is_not_a_number_is_named_with_its_line(
        tmp_path: Path) -> None:
    """Before, a bad timeout reached the transport and the run crashed (exit 3)."""
    pb, env = _files(tmp_path, PLAYBOOK.replace(
        "      headers:", "      read_timeout: \"{{ inputs.tenant }}\"\n      headers:"))
    done = cli("run", str(pb), "--env", str(env), "-i", "api_url=http://127.0.0.1:9",
               "-i", f"token={TOKEN}", "-i", "tenant=soon")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "pb.yaml:12:" in done.stderr, done.stderr
    assert "connectors.api.read_timeout must be a number above 0" in done.stderr


def test_env_none_runs_on_the_playbooks_settings_alone(tmp_path: Path, base: str) -> None:
    """No environment file at all: ``--env none``. The default sandbox cannot run ``http``
    and its error says so, naming ``--env none``."""
    pb, _ = _files(tmp_path)
    args = ("-i", f"api_url={base}", "-i", f"token={TOKEN}", "--store", str(tmp_path / "r.db"))
    done = cli("run", str(pb), "--env", "none", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    _no_token(done.stdout, done.stderr)
    sandboxed = cli("run", str(pb), *args)
    assert sandboxed.returncode == 2
    assert "--env none" in sandboxed.stderr

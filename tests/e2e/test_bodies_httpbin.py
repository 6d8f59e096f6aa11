"""Raw bodies, multipart, downloads and per-call redirects on ``use: http``, against httpbin (a
real server from PyPI on loopback, tests/wsgi_servers.py): a text body and a file's bytes
echoed back, a multipart form with a file part, an XML answer read by XPath, a 302 kept as the
answer with ``follow-redirects: false``, answers streamed to a file with ``save-to`` (and no
file left by one that is too large or cut short), a secret in a body masked everywhere, and the
validate errors (two bodies, a file that is not there)."""

from __future__ import annotations

import base64
import io
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import cli
from leakcheck import every_output
from wsgi_servers import httpbin

from runner import api
from runner.results import PASSED, RunResult
from runner.secrets import Redactor

PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy",
              "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with httpbin() as url:
        yield url


@pytest.fixture(autouse=True)
def _direct(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:  # loopback, never through a proxy the machine may name
        monkeypatch.delenv(name, raising=False)


def _files(tmp_path: Path, steps: str, base_url: str, settings: str = "") -> tuple[Path, Path]:
    env = tmp_path / "ci.yaml"
    env.write_text(f"connectors:\n  api:\n    base_url: {base_url}\n{settings}")
    pb = tmp_path / "pb.yaml"
    pb.write_text(f"name: bodies\nconnectors:\n  api: {{use: http}}\nsteps:\n{steps}")
    return pb, env


def _run(tmp_path: Path, steps: str, base_url: str, settings: str = "") -> tuple[RunResult, str]:
    pb, env = _files(tmp_path, steps, base_url, settings)
    out = io.StringIO()
    result = api.run(pb, env=str(env), stream=out, redactor=Redactor(), store=False)
    return result, out.getvalue()


# -- bodies ------------------------------------------------------------------------------------

def test_a_text_body_is_sent_as_is(tmp_path: Path, base: str) -> None:
    result, console = _run(tmp_path, """\
  - id: soap
    call: api
    method: POST
    path: /post
    headers: {Content-Type: "text/xml; charset=utf-8"}
    body: |
      <Envelope><Body><Get id="{{ 6 * 7 }}">héllo</Get></Body></Envelope>
    assert:
      - "response.json.data == '<Envelope><Body><Get id=\\"42\\">héllo</Get></Body></Envelope>\\n'"
      - "response.json.headers['Content-Type'] == 'text/xml; charset=utf-8'"
""", base)
    assert result.status == PASSED, console
    request = result.steps[0].exchanges[0].request
    assert request["body"].startswith("<Envelope><Body><Get id=\"42\">")


def test_a_text_body_has_no_content_type_forced(tmp_path: Path, base: str) -> None:
    result, console = _run(tmp_path, """\
  - call: api
    method: PUT
    path: /put
    body: plain words
    assert: ["response.json.data == 'plain words'",
             "'Content-Type' not in response.json.headers"]
""", base)
    assert result.status == PASSED, console


def test_a_file_body_is_sent_as_its_bytes(tmp_path: Path, base: str) -> None:
    blob = bytes(range(256)) * 4
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "blob.bin").write_bytes(blob)
    result, console = _run(tmp_path, """\
  - id: up
    call: api
    method: POST
    path: /post
    body: {file: data/blob.bin}
    extract: {data: $.data, type: "$.headers['Content-Type']"}
""", base)
    assert result.status == PASSED, console
    data = result.steps[0].extracted["data"]  # httpbin hands back bytes that are not UTF-8 so
    prefix = "data:application/octet-stream;base64,"
    assert data.startswith(prefix) and base64.b64decode(data[len(prefix):]) == blob
    assert result.steps[0].extracted["type"] == "application/octet-stream"
    assert result.steps[0].exchanges[0].request["body"] == "<1,024 bytes from data/blob.bin>"
    assert "\\u0000" not in console and "\x00" not in console


def test_a_file_body_takes_the_type_its_name_says_unless_the_step_sets_one(
        tmp_path: Path, base: str) -> None:
    (tmp_path / "order.xml").write_text("<order id='7'/>")
    result, console = _run(tmp_path, """\
  - call: api
    method: POST
    path: /post
    body: {file: order.xml}
    assert: ["response.json.data == \\"<order id='7'/>\\"",
             "response.json.headers['Content-Type'] == 'application/xml'"]
  - call: api
    method: POST
    path: /post
    headers: {Content-Type: application/soap+xml}
    body: {file: order.xml}
    assert: "response.json.headers['Content-Type'] == 'application/soap+xml'"
""", base)
    assert result.status == PASSED, console


def test_multipart_with_a_file_part(tmp_path: Path, base: str) -> None:
    (tmp_path / "report.csv").write_text("a,b\n1,2\n")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\nrest")
    result, console = _run(tmp_path, """\
  - id: upload
    call: api
    method: POST
    path: /post
    multipart:
      note: "q{{ 1 + 2 }}"
      count: 5
      report: {file: report.csv, filename: q3.csv, content-type: text/csv}
      logo: {file: logo.png}
    assert:
      - "response.json.form == {'note': 'q3', 'count': '5'}"
      - "response.json.files.report == 'a,b\\n1,2\\n'"
      - "response.json.files.logo.startswith('data:image/png;base64,')"
      - "response.json.headers['Content-Type'].startswith('multipart/form-data; boundary=')"
""", base)
    assert result.status == PASSED, console
    request = result.steps[0].exchanges[0].request
    assert request["multipart"] == {"note": "q3", "count": "5",
                                    "report": "<8 bytes from report.csv as q3.csv>",
                                    "logo": "<12 bytes from logo.png as logo.png>"}


def test_an_xml_answer_is_read_by_xpath(tmp_path: Path, base: str) -> None:
    result, console = _run(tmp_path, """\
  - id: slides
    call: api
    method: GET
    path: /xml
    extract:
      title: {xpath: "/slideshow/@title"}
      items: {xpath: "//slide/title/text()", all: true}
""", base)
    assert result.status == PASSED, console
    assert result.steps[0].extracted == {"title": "Sample Slide Show",
                                         "items": ["Wake up to WonderWidgets!", "Overview"]}


# -- redirects, per call -----------------------------------------------------------------------

def test_follow_redirects_false_keeps_the_3xx_as_the_answer(tmp_path: Path, base: str) -> None:
    result, console = _run(tmp_path, """\
  - id: kept
    call: api
    method: GET
    path: /redirect-to
    query: {url: /get}
    follow-redirects: false
    assert: ["response.status_code == 302", "response.headers.location == '/get'",
             "response.ok"]
  - id: followed
    call: api
    method: GET
    path: /redirect-to
    query: {url: /get}
    assert: ["response.status_code == 200", "response.url.endswith('/get')"]
""", base)
    assert result.status == PASSED, console


def test_follow_redirects_true_on_a_call_wins_over_the_connector(tmp_path: Path,
                                                                  base: str) -> None:
    result, console = _run(tmp_path, """\
  - id: connectors
    call: api
    method: GET
    path: /redirect-to
    query: {url: /get}
    assert: "response.status_code == 302"
  - id: own
    call: api
    method: GET
    path: /redirect-to
    query: {url: /get}
    follow-redirects: true
    assert: "response.status_code == 200"
""", base, settings="    follow_redirects: false\n")
    assert result.status == PASSED, console


# -- downloads -------------------------------------------------------------------------------

def test_save_to_streams_the_answer_to_a_file(tmp_path: Path, base: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # save-to is relative to the current directory, as curl -o
    result, console = _run(tmp_path, """\
  - id: blob
    call: api
    method: GET
    path: /bytes/3000
    save-to: "out/{{ 'b' }}.bin"
    assert: ["response.size == 3000", "response.body == ''",
             "response.saved_to.endswith('/out/b.bin')"]
  - id: png
    call: api
    method: GET
    path: /image/png
    save-to: out/logo.png
    assert: "response.size == response.headers['content-length'] | int"
""", base)
    assert result.status == PASSED, console
    assert (work / "out" / "b.bin").stat().st_size == 3000
    png = (work / "out" / "logo.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert str(len(png)) == result.steps[1].exchanges[0].response["headers"]["content-length"]
    assert sorted(p.name for p in (work / "out").iterdir()) == ["b.bin", "logo.png"]
    assert result.steps[0].exchanges[0].response["body"] == \
        f"<3,000 bytes saved to {work / 'out' / 'b.bin'}>"


@pytest.mark.parametrize("path", ["/bytes/3000", "/stream-bytes/3000"])
def test_an_oversize_download_leaves_no_file(tmp_path: Path, base: str, path: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Declared (Content-Length) or found while streaming (chunked): the step fails, nothing
    is left in the folder, and a file already there is as it was."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "old.bin").write_bytes(b"old")
    result, console = _run(tmp_path, f"""\
  - call: api
    method: GET
    path: {path}
    save-to: old.bin
  - call: api
    method: GET
    path: {path}
    save-to: new.bin
""", base, settings="    max_response_bytes: 1000\n")
    assert result.status != PASSED
    assert "over the limit of 1,000" in (result.error or ""), console
    assert (tmp_path / "old.bin").read_bytes() == b"old"
    assert not (tmp_path / "new.bin").exists()
    assert not list(tmp_path.glob(".*.part")), list(tmp_path.iterdir())


@pytest.fixture()
def cut_short() -> Iterator[str]:
    """A server that declares 5,000 bytes, sends 100 and hangs up."""
    srv = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n"
                             b"Content-Type: application/octet-stream\r\n\r\n" + b"x" * 100)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    srv.close()


def test_a_broken_download_leaves_no_file(tmp_path: Path, cut_short: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result, console = _run(tmp_path, """\
  - call: api
    method: GET
    path: /file
    save-to: got.bin
    retry: false
""", cut_short)
    assert result.status != PASSED, console
    assert "broken" in (result.error or "") or "cut short" in (result.error or ""), result.error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ci.yaml", "pb.yaml"]


def test_an_error_answer_is_read_not_saved(tmp_path: Path, base: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result, console = _run(tmp_path, """\
  - call: api
    method: GET
    path: /status/404
    save-to: missing.bin
    allow-error: true
    assert: ["response.error.startswith('HTTP 404')", "response.saved_to == none"]
""", base)
    assert result.status == PASSED, console
    assert not (tmp_path / "missing.bin").exists()


# -- secrets, plan ---------------------------------------------------------------------------

def test_a_secret_in_a_body_is_masked_everywhere(tmp_path: Path, base: str) -> None:
    note = "body-secret-Kq7Wv3Xz9"
    env = tmp_path / "env.yaml"
    env.write_text(f"secrets:\n  note: {{secret: G_NOTE}}\nconnectors:\n  api:\n"
                   f"    base_url: {base}\n")
    pb = tmp_path / "pb.yaml"
    pb.write_text("""\
name: echo
connectors:
  api: {use: http}
steps:
  - id: soap
    call: api
    method: POST
    path: /anything/soap
    headers: {Content-Type: text/xml}
    body: "<Login><Password>{{ secrets.note }}</Password></Login>"
    extract: {echoed: $.data}
  - id: form
    call: api
    method: POST
    path: /anything/form
    multipart: {password: "{{ secrets.note }}"}
  - id: show
    assert:
      - that: "false"
        message: "the server saw {{ echoed }}"
""")
    outs = every_output(tmp_path, pb, env, {}, extra_env={"G_NOTE": note})
    assert "the server saw <Login><Password>***</Password></Login>" in outs.run, outs.run
    assert outs.find(note) == []
    assert "<Login><Password>***</Password></Login>" in outs.texts["plan"], outs.texts["plan"]


def test_a_secret_across_the_cut_of_a_long_body_is_masked(tmp_path: Path, base: str) -> None:
    """A report keeps the first 2,000 characters of a body: the secret is masked before the
    cut, so the half of it that falls before the cut is not left in clear."""
    note = "cut-secret-Hy6Tq2Lm8Pz"
    env = tmp_path / "env.yaml"
    env.write_text(f"secrets:\n  note: {{secret: G_NOTE}}\nconnectors:\n  api:\n"
                   f"    base_url: {base}\n")
    pb = tmp_path / "pb.yaml"
    pb.write_text(f"""\
name: long
connectors:
  api: {{use: http}}
steps:
  - call: api
    method: POST
    path: /post
    body: "{'x' * 1990}{{{{ secrets.note }}}}{'y' * 100}"
""")
    outs = every_output(tmp_path, pb, env, {}, extra_env={"G_NOTE": note})
    for part in (note, note[:10], note[-10:]):
        assert outs.find(part) == [], part


def test_plan_shows_bodies_files_and_save_to(tmp_path: Path, base: str) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\x00" * 2048)
    pb, env = _files(tmp_path, """\
  - call: api
    method: PUT
    path: /put
    body: {file: blob.bin}
    save-to: out.json
  - call: api
    method: POST
    path: /post
    multipart: {note: hi, f: {file: blob.bin}}
    follow-redirects: false
  - call: api
    method: POST
    path: /post
    body: "<a/>"
""", base)
    done = cli("plan", str(pb), "-e", str(env))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert 'body: "<2,048 bytes from blob.bin>"' in out, out
    assert 'save-to: "out.json"' in out
    assert 'multipart: {"note": "hi", "f": "<2,048 bytes from blob.bin as blob.bin>"}' in out
    assert "follow-redirects: false" in out
    assert 'body: "<a/>"' in out
    assert "\x00" not in out


# -- validate ----------------------------------------------------------------------------------

def _validate(tmp_path: Path, steps: str) -> tuple[int, str, Path]:
    pb, _ = _files(tmp_path, steps, "http://127.0.0.1:9")
    done = cli("validate", str(pb))
    assert "Traceback" not in done.stdout + done.stderr
    return done.returncode, done.stderr, pb


def test_two_bodies_are_refused(tmp_path: Path) -> None:
    code, err, pb = _validate(tmp_path, """\
  - call: api
    method: POST
    path: /post
    json: {a: 1}
    body: "<a/>"
""")
    assert code == 2, err
    assert f"{pb}:9:11:" in err and "'json' and 'body' are both given" in err, err


def test_a_missing_literal_file_is_refused_at_validate(tmp_path: Path) -> None:
    code, err, pb = _validate(tmp_path, """\
  - call: api
    method: PUT
    path: /put
    body: {file: nowhere.xml}
""")
    assert code == 2, err
    assert f"{pb}:8:" in err and "the file 'nowhere.xml' does not exist" in err, err
    assert "relative to the playbook's folder" in err


def test_a_missing_multipart_file_is_refused_at_validate(tmp_path: Path) -> None:
    code, err, pb = _validate(tmp_path, """\
  - call: api
    method: POST
    path: /post
    multipart:
      note: hi
      upload: {file: gone.csv, filename: x.csv}
""")
    assert code == 2, err
    assert f"{pb}:10:" in err and "the file 'gone.csv' does not exist" in err, err


def test_a_templated_file_that_is_missing_fails_the_step(tmp_path: Path, base: str) -> None:
    result, console = _run(tmp_path, """\
  - id: up
    call: api
    method: PUT
    path: /put
    body: {file: "{{ 'later' }}.xml"}
""", base)
    assert result.status != PASSED
    assert "body: cannot read the file 'later.xml'" in (result.error or ""), console
    assert not result.steps[0].exchanges  # nothing was sent


def test_body_is_for_raw_calls(tmp_path: Path) -> None:
    code, err, _ = _validate(tmp_path, """\
  - call: api.login
    body: "<a/>"
""")
    assert code == 2 and "'body' is for raw calls" in err, err


def test_a_secret_across_the_cut_of_a_long_answer_is_masked(tmp_path: Path, base: str) -> None:
    """The same for an answer: httpbin echoes the body back, after a few dozen characters of
    its own, so one of these lengths puts the secret across the answer's 2,000th character."""
    note = "cut-secret-Hy6Tq2Lm8Pz"
    env = tmp_path / "env.yaml"
    env.write_text(f"secrets:\n  note: {{secret: G_NOTE}}\nconnectors:\n  api:\n"
                   f"    base_url: {base}\n")
    steps = "".join(f"""\
  - call: api
    method: POST
    path: /anything
    body: "{'x' * n}{{{{ secrets.note }}}}"
""" for n in range(1900, 2000, 10))
    pb = tmp_path / "pb.yaml"
    pb.write_text(f"name: long\nconnectors:\n  api: {{use: http}}\nsteps:\n{steps}")
    outs = every_output(tmp_path, pb, env, {}, extra_env={"G_NOTE": note})
    for part in (note, note[:10], note[-10:]):
        assert outs.find(part) == [], part

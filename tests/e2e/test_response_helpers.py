"""Assertions on an answer's size, time and status (issue 13): ``response.size`` (the body's
bytes), ``response.elapsed`` (seconds) beside ``response.elapsed_ms``, ``response.status in
[...]``; a failed assertion shows the values it read. Against httpbin; each test failed before
(``size`` and ``elapsed`` were not there)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from wsgi_servers import httpbin

from runner import api
from runner.results import FAILED, PASSED, RunResult
from runner.secrets import Redactor


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with httpbin() as url:
        yield url


def run(tmp_path: Path, base_url: str, steps: str) -> tuple[RunResult, str]:
    env = tmp_path / "env.yaml"
    env.write_text(f"connectors:\n  api:\n    base_url: {base_url}\n")
    pb = tmp_path / "pb.yaml"
    pb.write_text(f"name: helpers\nconnectors:\n  api: {{use: http}}\nsteps:\n{steps}")
    out = io.StringIO()
    result = api.run(pb, env=str(env), stream=out, redactor=Redactor(), progress=False)
    return result, out.getvalue()


@pytest.mark.parametrize("n", [0, 1, 1000, 70_000])
def test_size_is_the_bodys_bytes(tmp_path: Path, base: str, n: int) -> None:
    result, console = run(tmp_path, base, f"""\
  - call: api
    method: GET
    path: /bytes/{n}
    assert: "response.size == {n} and response.size == response.headers['content-length'] | int"
""")
    assert result.status == PASSED, console


def test_size_of_a_gzipped_answer_is_of_the_decoded_body(tmp_path: Path, base: str) -> None:
    result, console = run(tmp_path, base, """\
  - call: api
    method: GET
    path: /gzip
    assert: "response.size == response.text | length and response.json.gzipped"
""")
    assert result.status == PASSED, console


def test_an_elapsed_bound_fails_showing_the_time(tmp_path: Path, base: str) -> None:
    """/delay/1 takes a second: a 100 ms bound cannot hold, however noisy the machine."""
    result, console = run(tmp_path, base, """\
  - call: api
    method: GET
    path: /delay/1
    assert:
      - "response.elapsed >= 1 and response.elapsed == response.elapsed_ms / 1000"
      - that: "response.elapsed_ms < 100 and response.size > 0"
        message: "too slow"
""")
    assert result.status == FAILED, console
    assert "too slow (assertion: response.elapsed_ms < 100 and response.size > 0)" in console
    line = next(x for x in console.splitlines() if "values:" in x)
    shown = dict(kv.split(" = ") for kv in line.split("values: ", 1)[1].split("; "))
    assert 1000 <= float(shown["response.elapsed_ms"]) < 60_000, line
    assert len(shown["response.elapsed_ms"].split(".")[-1]) <= 1, line  # 1003.2, not 15 digits
    assert int(shown["response.size"]) > 0, line


def test_a_status_list_fails_showing_the_status(tmp_path: Path, base: str) -> None:
    result, console = run(tmp_path, base, """\
  - call: api
    method: GET
    path: /status/202
    assert: "response.status in [200, 201] and response.size < 10"
""")
    assert result.status == FAILED, console
    assert "values: response.status = 202; response.size = 0" in console, console

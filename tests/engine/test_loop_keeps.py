"""What a long loop keeps (issue 14: memory flat in the number of calls): its first and last
ten iterations and every failure, whole; the others only counted, in the result, the console,
the JSON and HTML reports and the history. The values it extracts are all kept (later steps
read them), and every exchange still goes to ``--log-format json``. Against httpbin, a real
server on loopback."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from wsgi_servers import httpbin

from runner import api
from runner.results import FAILED, PASSED, RunResult
from runner.store import Store

PLAYBOOK = """\
name: a long loop
inputs:
  bad: {{type: integer, default: -1}}
connectors:
  api:
    use: http
    settings: {{base_url: {{env: LOOP_BASE}}}}
steps:
  - id: each
    loop: "{{{{ range(30) | list }}}}"
    concurrency: {concurrency}
    call: api
    method: GET
    path: "/anything/{{{{ item }}}}"
    extract: {{n: {{jsonpath: "$.url"}}}}
    assert: "item != inputs.bad"
  - id: after
    assert: "n | length == {passed}"
"""


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with httpbin() as url:
        yield url


def _run(tmp_path: Path, base: str, monkeypatch: pytest.MonkeyPatch, *, concurrency: int,
         passed: int, bad: int = -1, **kw: object) -> tuple[RunResult, str]:
    monkeypatch.setenv("LOOP_BASE", base)
    pb = tmp_path / "loop.yaml"
    pb.write_text(PLAYBOOK.format(concurrency=concurrency, passed=passed))
    env = tmp_path / "ci.yaml"
    env.write_text("connectors: {}\n")
    out = io.StringIO()
    result = api.run(pb, env=str(env), inputs={"bad": bad}, stream=out, progress=False,
                     store=str(tmp_path / "runs.db"), **kw)  # type: ignore[arg-type]
    return result, out.getvalue()


def test_a_long_loop_keeps_its_first_and_last_ten_iterations(
        tmp_path: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result, console = _run(tmp_path, base, monkeypatch, concurrency=4, passed=30,
                           report_html=str(tmp_path / "r.html"),
                           report_json=str(tmp_path / "r.json"))
    assert result.status == PASSED, console
    loop = result.steps[0]
    assert [r.trail for r in loop.iterations] == \
        [f"each[{i}]" for i in (*range(10), *range(20, 30))]
    assert loop.omitted == {"passed": 10}
    assert len(loop.extracted["n"]) == 30  # every value, for the steps after it
    # the console counts every iteration from the events, not from the 20 kept
    assert "30 iterations: 30 passed · slowest each[" in console, console
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["steps"][0]["omitted_iterations"] == {"passed": 10}
    assert len(report["steps"][0]["iterations"]) == 20
    assert "30 iterations" in (tmp_path / "r.html").read_text()
    store = Store(str(tmp_path / "runs.db"))
    try:
        stored = store.get_run(result.run_id)
    finally:
        store.close()
    assert stored is not None
    assert stored["report"]["steps"][0]["omitted_iterations"] == {"passed": 10}


def test_a_failed_iteration_is_kept_whatever_its_place(
        tmp_path: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result, _ = _run(tmp_path, base, monkeypatch, concurrency=4, passed=29, bad=15)
    assert result.status == FAILED
    loop = result.steps[0]
    labels = [r.trail for r in loop.iterations]
    assert "each[15]" in labels and len(labels) == 21
    failed = next(r for r in loop.iterations if r.trail == "each[15]")
    assert failed.status == FAILED and failed.exchanges  # kept whole: its request and answer
    assert loop.omitted == {"passed": 9}
    assert "1 of 30 iterations failed; first: step 'each'[15]" in (loop.error or "")


def test_every_exchange_of_a_long_loop_is_in_the_json_log(
        tmp_path: Path, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result, log = _run(tmp_path, base, monkeypatch, concurrency=1, passed=30, log_format="json")
    assert result.status == PASSED
    urls = [e["url"] for e in map(json.loads, log.splitlines()) if e["event"] == "exchange"]
    assert sorted(urls) == sorted(f"{base}/anything/{i}" for i in range(30))

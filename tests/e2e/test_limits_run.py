"""Limits as a playbook's author sees them, against a real server on loopback: a repository's
connector file with ``limits:``, a concurrent loop whose one 429 with Retry-After pauses every
iteration (one 429 at the server, not one per iteration), the time waited on the step's line,
summed on the run's last line and in the JSON report; an environment's ``limits:`` over the
file's; the breaker's failure with the step's file:line, nothing sent while it is open; and the
environment's Redis URL's password never shown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import cli, run_playbook
from limits_server import Recorder
from wsgi_servers import serving

from runner.errors import EXIT_INVALID

CONNECTOR = """\
name: desk
settings:
  base_url: {required: true}
retry: {attempts: 3, backoff: 0.01}
limits:
  concurrent: 8
  breaker: {failures: 3, cooldown: 60}
operations:
  ping: {method: GET, path: /ping}
"""
LOOP = """\
name: loop
connectors:
  desk: {use: desk}
steps:
  - id: many
    loop: "{{ range(8) | list }}"
    concurrency: 8
    call: desk.ping
  - id: one
    call: desk.ping
"""
ENV = """\
connectors:
  desk:
    base_url: URL
"""


@pytest.fixture()
def server() -> Iterator[tuple[str, Recorder]]:
    rec = Recorder(hold=0.2)  # the iterations are all in flight when the 429 comes back
    with serving(rec, threads=16) as url:
        yield url, rec


def repo(root: Path, url: str, playbook: str = LOOP, env: str = ENV,
         connector: str = CONNECTOR) -> Path:
    for name, text in {"connectors/desk.yaml": connector, "playbooks/p.yaml": playbook,
                       "env.yaml": env.replace("URL", url)}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_429_pauses_the_whole_loop_and_the_wait_is_shown(tmp_path: Path,
                                                           server: tuple[str, Recorder]) -> None:
    url, rec = server
    root = repo(tmp_path, url, env=ENV + "    limits: {concurrent: 1}\n")
    rec.then(429, retry_after="1")  # the first request's answer
    out = run_playbook(root / "playbooks/p.yaml", tmp_path, env=str(root / "env.yaml"))
    assert out.result.status == "passed", out.console
    statuses = [t for t, _ in rec.arrivals]
    assert len(statuses) == 10  # 8 iterations, one retried, and `one`: a single 429
    # one at a time (the environment's concurrent: 1 over the file's 8), and after the 429
    # nothing went for the pause's second: the retry and the seven waiting iterations
    assert rec.most_in_flight == 1
    assert statuses[1] - statuses[0] >= 0.95
    report = json.loads(out.report_json)
    waits = [e.get("waited_ms", 0) for it in report["steps"][0]["iterations"]
             for e in it["exchanges"]]
    assert sum(1 for w in waits if w >= 900) >= 1  # a waiting iteration waited the pause
    from runner.report_html import render_html

    assert " for limits" in render_html(report)  # the call's line on the page says it too
    assert "; calls waited " in out.console.splitlines()[-1]


def test_the_breaker_fails_the_step_with_its_place(tmp_path: Path,
                                                   server: tuple[str, Recorder]) -> None:
    url, rec = server
    playbook = """\
name: fails
connectors:
  desk: {use: desk}
steps:
  - id: tries
    loop: "{{ range(3) | list }}"
    call: desk.ping
    allow-error: true
  - id: refused
    call: desk.ping
"""
    root = repo(tmp_path, url, playbook=playbook, connector=CONNECTOR.replace(
        "attempts: 3", "attempts: 1"))
    rec.then(503, times=3)
    out = run_playbook(root / "playbooks/p.yaml", tmp_path, env=str(root / "env.yaml"))
    assert out.result.status == "failed"
    assert rec.count() == 3  # the refused step sent nothing
    refused = out.result.steps[1]
    assert refused.error is not None and refused.error.startswith(
        "desk.ping: not sent: connector 'desk' failed 3 times in a row (last: HTTP 503)")
    assert refused.where.endswith("p.yaml:9")  # the step's line
    assert "circuit breaker is open" in out.console
    assert "limits.breaker" in (refused.hint or "")


def test_the_redis_password_is_never_shown(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    with serving(rec) as url:
        pass  # nothing listens at the Redis port either
    secret = "s3cret-redis-pw-9Xq"
    env = ENV + "    limits: {rate: 100}\nlimits: {redis: {secret: LIMITS_REDIS}}\n"
    root = repo(tmp_path, url, env=env, playbook=LOOP.replace("range(8)", "range(1)"))
    monkeypatch.setenv("LIMITS_REDIS", f"redis://:{secret}@127.0.0.1:1/0")
    out = run_playbook(root / "playbooks/p.yaml", tmp_path, env=str(root / "env.yaml"))
    assert out.result.status == "failed"
    assert "desk.ping: not sent: the Redis that holds the connector's limits" in out.console
    assert "did not answer" in out.console and secret not in out.outputs()
    assert rec.count() == 0


def test_an_environment_with_bad_limits_is_refused(tmp_path: Path) -> None:
    root = repo(tmp_path, "http://127.0.0.1:9", env=ENV + "    limits: {rate: fast}\n")
    proc = cli("validate", "playbooks/p.yaml", cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = cli("run", "playbooks/p.yaml", "--env", "env.yaml", cwd=root)
    assert proc.returncode == EXIT_INVALID
    assert "env.yaml:4:20: connectors > desk > limits > rate" in proc.stderr


def test_the_json_log_says_what_each_call_waited(tmp_path: Path,
                                                 server: tuple[str, Recorder]) -> None:
    import io

    from runner import api

    url, rec = server
    root = repo(tmp_path, url, env=ENV + "    limits: {concurrent: 1}\n")
    stream = io.StringIO()
    result = api.run(root / "playbooks/p.yaml", env=str(root / "env.yaml"), stream=stream,
                     log_format="json", store=False)
    assert result.status == "passed"
    events = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    waits = [e["waited_ms"] for e in events if e.get("event") == "exchange" and "waited_ms" in e]
    # eight iterations for one slot, each answer 0.2 s: seven of them waited for it
    assert len(waits) >= 7 and all(w > 0 for w in waits)
    assert rec.most_in_flight == 1

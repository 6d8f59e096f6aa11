"""Waits that end: a poll's ``timeout`` bounds the request in flight, and failures that would
fail the same way again (a redirect loop, an answer over the size cap, a certificate that does
not verify) are not retried. Real HTTP to a simulator on a loopback port; requests counted
where the server sees them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_playbook

from runner.simulator import Reply, Request, Simulator, route


class Slow(Simulator):
    name = "slow"

    @route("POST", "/auth")
    def auth(self, req: Request) -> Reply:  # the automatos connector logs in first
        return Reply(200, b'{"status": true, "data": {"token": "slow-token"}}',
                     {"Content-Type": "application/json"})

    @route("GET", "/slow")
    def slow(self, req: Request) -> Reply:
        time.sleep(10)
        return Reply(200, b'{"done": true}', {"Content-Type": "application/json"})


@pytest.fixture(scope="module")
def slow() -> Iterator[Slow]:
    with Slow() as sim:
        yield sim


def _run(tmp_path: Path, sim: Simulator, steps: str, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
         settings: str = "{}"):
    monkeypatch.setenv("BOUNDED_KEY", "not-used-here")
    book = tmp_path / "book.yaml"
    book.write_text(f"name: bounded waits\nconnectors:\n  h: {{use: automatos, settings: "
                    f"{settings}}}\nsteps:\n{steps}")
    env = tmp_path / "env.yaml"
    env.write_text(f"connectors:\n  h:\n    base_url: {sim.url}\n    automatos_id: '1'\n"
                   "    automatos_key: {secret: BOUNDED_KEY}\n")
    return run_playbook(book, tmp_path, env=str(env))


def test_a_poll_timeout_bounds_the_request_in_flight(tmp_path: Path, slow: Slow,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # the connector waits 30 s for an answer, the server takes 10 s, the poll allows 2 s
    started = time.monotonic()
    out = _run(tmp_path, slow, """\
  - id: wait
    call: h
    method: GET
    path: /slow
    poll-until: "response.json.done"
    every: 1s
    timeout: 2s
""", monkeypatch)
    took = time.monotonic() - started
    assert out.result.status == "failed", out.console
    assert took < 6, f"the poll ended after {took:.1f} s"
    error = out.result.error or ""
    assert "`response.json.done` still false after 2 s" in error, error
    assert "within" in error and "the time left before the step's timeout" in error, error
    assert slow.calls["slow"] == 1  # and no retry past the deadline

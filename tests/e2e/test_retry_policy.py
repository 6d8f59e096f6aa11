"""The retry policy, counted on a real server: which answers are tried again, for which
methods, how long the client waits (``Retry-After`` as an HTTP date), and what each key of a
step's ``retry:`` mapping changes. Each test has a simulator of its own, so its counts are the
test's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest
from helpers import run_playbook

from runner.simulator import Simulator, route
from runner.simulator_messages import Reply, Request

OK = {"Content-Type": "application/json"}


class Flaky(Simulator):
    """``/flaky/<status>`` answers ``status`` to the first ``failures`` requests, then 200."""

    name = "flaky"

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1
        self.retry_after: str | None = None
        self.times: list[float] = []

    @route("POST", "/auth")
    def auth(self, req: Request) -> Reply:  # the automatos connector logs in first
        return Reply(200, b'{"status": true, "data": {"token": "flaky-token"}}', OK)

    @route("GET", r"/flaky/(?P<status>\d+)", name="get")
    def get(self, req: Request) -> Reply:
        return self._answer(req)

    @route("POST", r"/flaky/(?P<status>\d+)", name="post")
    def post(self, req: Request) -> Reply:
        return self._answer(req)

    def _answer(self, req: Request) -> Reply:
        with self.lock:
            self.times.append(time.monotonic())
            if self.failures > 0:
                self.failures -= 1
                headers = dict(OK)
                if self.retry_after is not None:
                    headers["Retry-After"] = self.retry_after
                return Reply(int(req.params["status"]), b'{"error": "not now"}', headers)
        return Reply(200, b'{"ok": true}', OK)


@pytest.fixture
def flaky() -> Iterator[Flaky]:
    with Flaky() as sim:
        yield sim


def run(tmp_path: Path, sim: Flaky, method: str, status: int, monkeypatch: pytest.MonkeyPatch,
        retry: str | None = "{backoff: 0.01}"):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FLAKY_KEY", "not-used-here")
    book = tmp_path / "book.yaml"
    step = f"  - {{id: c, call: h, method: {method}, path: /flaky/{status}"
    step += f", retry: {retry}}}\n" if retry is not None else "}\n"
    book.write_text("name: retries\nconnectors:\n  h: {use: automatos}\nsteps:\n" + step)
    env = tmp_path / "env.yaml"
    env.write_text(f"connectors:\n  h:\n    base_url: {sim.url}\n    automatos_id: '1'\n"
                   "    automatos_key: {secret: FLAKY_KEY}\n")
    return run_playbook(book, tmp_path, env=str(env))


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_a_get_is_retried_on_a_transient_status(tmp_path: Path, flaky: Flaky, status: int,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(tmp_path, flaky, "GET", status, monkeypatch)
    assert out.result.status == "passed", out.console
    assert flaky.calls["get"] == 2


@pytest.mark.parametrize("status", [500, 400, 404, 409])
def test_a_get_is_not_retried_on_other_statuses(tmp_path: Path, flaky: Flaky, status: int,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(tmp_path, flaky, "GET", status, monkeypatch)
    assert out.result.status == "failed"
    assert f"HTTP {status}" in (out.result.error or "")
    assert flaky.calls["get"] == 1


def test_a_post_is_retried_on_429(tmp_path: Path, flaky: Flaky,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(tmp_path, flaky, "POST", 429, monkeypatch)
    assert out.result.status == "passed", out.console
    assert flaky.calls["post"] == 2


@pytest.mark.parametrize("status", [502, 504])
def test_a_post_is_not_retried_on_a_gateway_error(tmp_path: Path, flaky: Flaky, status: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # the vendor may have acted before the gateway gave up: never sent twice by default
    out = run(tmp_path, flaky, "POST", status, monkeypatch)
    assert out.result.status == "failed"
    assert flaky.calls["post"] == 1


def test_unsafe_true_retries_a_post_on_a_gateway_error(tmp_path: Path, flaky: Flaky,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(tmp_path, flaky, "POST", 502, monkeypatch, retry="{backoff: 0.01, unsafe: true}")
    assert out.result.status == "passed", out.console
    assert flaky.calls["post"] == 2


def test_attempts_counts_every_try(tmp_path: Path, flaky: Flaky,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    flaky.failures = 4
    out = run(tmp_path, flaky, "GET", 503, monkeypatch, retry="{backoff: 0.01, attempts: 5}")
    assert out.result.status == "passed", out.console
    assert flaky.calls["get"] == 5


def test_attempts_stops_there(tmp_path: Path, flaky: Flaky,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    flaky.failures = 4
    out = run(tmp_path, flaky, "GET", 503, monkeypatch, retry="{backoff: 0.01, attempts: 2}")
    assert out.result.status == "failed"
    assert flaky.calls["get"] == 2


def test_the_default_is_three_tries(tmp_path: Path, flaky: Flaky,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    flaky.failures = 10
    out = run(tmp_path, flaky, "GET", 503, monkeypatch, retry=None)
    assert out.result.status == "failed"
    assert flaky.calls["get"] == 3


def test_statuses_replaces_the_list(tmp_path: Path, flaky: Flaky,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(tmp_path, flaky, "GET", 500, monkeypatch, retry="{backoff: 0.01, statuses: [500]}")
    assert out.result.status == "passed", out.console
    assert flaky.calls["get"] == 2


def test_a_status_left_out_of_statuses_is_not_retried(tmp_path: Path, flaky: Flaky,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(tmp_path, flaky, "GET", 503, monkeypatch, retry="{backoff: 0.01, statuses: [500]}")
    assert out.result.status == "failed"
    assert flaky.calls["get"] == 1


def test_retry_false_never_retries(tmp_path: Path, flaky: Flaky,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(tmp_path, flaky, "GET", 503, monkeypatch, retry="false")
    assert out.result.status == "failed"
    assert flaky.calls["get"] == 1


def test_retry_after_as_an_http_date_is_waited_for(tmp_path: Path, flaky: Flaky,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # 2 s ahead, at a one-second resolution: the client waits between 1 and 2 s; without
    # reading the date it would wait the backoff, at most 0.01 s here
    flaky.retry_after = formatdate(time.time() + 2, usegmt=True)
    out = run(tmp_path, flaky, "GET", 503, monkeypatch)
    assert out.result.status == "passed", out.console
    assert flaky.calls["get"] == 2
    gap = flaky.times[1] - flaky.times[0]
    assert 0.9 < gap < 10, gap


def test_retry_after_in_seconds_is_capped_by_max_delay(tmp_path: Path, flaky: Flaky,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    flaky.retry_after = "30"
    out = run(tmp_path, flaky, "GET", 503, monkeypatch, retry="{backoff: 0.01, max_delay: 1}")
    assert out.result.status == "passed", out.console
    gap = flaky.times[1] - flaky.times[0]
    assert 0.9 < gap < 10, gap

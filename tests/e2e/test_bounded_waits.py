"""Waits that end: a poll's ``timeout`` bounds the request in flight, and failures that would
fail the same way again (a redirect loop, an answer over the size cap, a certificate that does
not verify) are not retried. Real HTTP to a simulator on a loopback port; requests counted
where the server sees them."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_playbook, self_signed_cert

from runner.simulator import Simulator, route
from runner.simulator_messages import Reply, Request


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

    @route("GET", "/loop")
    def loop(self, req: Request) -> Reply:
        return Reply(302, b"", {"Location": "/loop"})

    @route("GET", "/big")
    def big(self, req: Request) -> Reply:
        return Reply(200, b"x" * 5000, {"Content-Type": "text/plain"})


@pytest.fixture
def slow() -> Iterator[Slow]:  # one per test: its request counts are the test's
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


CALL = "  - {{id: get, call: h, method: GET, path: {path}}}\n"
POLL = ("  - {{id: get, call: h, method: GET, path: {path}, poll-until: 'response.ok', "
        "every: 0.2s, timeout: 5s}}\n")


@pytest.mark.parametrize("shape", [CALL, POLL], ids=["call", "poll"])
def test_a_redirect_loop_is_not_retried(tmp_path: Path, slow: Slow, shape: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    started = time.monotonic()
    out = _run(tmp_path, slow, shape.format(path="/loop"), monkeypatch)
    assert out.result.status == "failed"
    assert "too many redirects" in (out.result.error or "")
    assert "gave up after" not in (out.result.error or "")
    assert slow.calls["loop"] == 31  # one try: the request and its 30 redirects, not 3 x 31
    assert time.monotonic() - started < 4  # the poll did not go on to its timeout


@pytest.mark.parametrize("shape", [CALL, POLL], ids=["call", "poll"])
def test_an_answer_over_the_size_cap_is_not_retried(tmp_path: Path, slow: Slow, shape: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    out = _run(tmp_path, slow, shape.format(path="/big"), monkeypatch,
               settings="{max_response_bytes: 1000}")
    assert out.result.status == "failed"
    assert "the answer is 5,000 bytes, over the limit of 1,000" in (out.result.error or "")
    assert slow.calls["big"] == 1


class CountingTLSServer(threading.Thread):
    """A TLS listener with a self-signed certificate that counts the connections it accepts
    (a client that does not trust the certificate never gets as far as a request)."""

    def __init__(self, crt: Path, key: Path) -> None:
        super().__init__(daemon=True)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(crt), str(key))
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed: the test is over
            self.connections += 1
            try:
                with self.ctx.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass  # the client refused the certificate, as it should


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[CountingTLSServer]:
    crt, key = self_signed_cert(tmp_path)
    server = CountingTLSServer(crt, key)
    server.start()
    yield server
    server.sock.close()


def test_a_certificate_that_does_not_verify_is_not_retried(
        tmp_path: Path, tls_server: CountingTLSServer, monkeypatch: pytest.MonkeyPatch) -> None:
    class At:  # the playbook's connector pointed at the TLS listener
        url = tls_server.url

    out = _run(tmp_path, At(), CALL.format(path="/anything"), monkeypatch)  # type: ignore[arg-type]
    assert out.result.status == "failed"
    error = out.result.error or ""
    assert "TLS error talking to" in error and "self-signed certificate" in error, error
    assert "gave up after" not in error
    assert tls_server.connections == 1

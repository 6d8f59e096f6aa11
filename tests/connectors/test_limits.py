"""A connector's ``limits:`` against a real server on loopback (cheroot, counting at the
server): the rate spaces requests across threads, ``concurrent`` caps requests in flight,
``per:`` keeps one bucket per value, a 429 with Retry-After pauses every caller, the breaker
opens after failures in a row, fails calls without sending them and closes after a trial; the
schema refuses bad limits with the file's line. Only lower bounds on time are checked here (a
loaded machine can only make requests later); the rate's upper bound is the 20 s acceptance test
in tests/distributed/test_limits_redis.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from limits_server import Recorder
from wsgi_servers import serving

from runner.connectors.client import ConnectorClient
from runner.connectors.gates import LocalBackend
from runner.connectors.loading import load_connector
from runner.errors import CircuitOpen, PlaybookError
from runner.secrets import Redactor

CONNECTOR = """\
name: limited
settings:
  base_url: {{required: true}}
  tenant: {{default: acme}}
retry: {{attempts: {attempts}, backoff: 0.01}}
limits:
{limits}
operations:
  ping: {{method: GET, path: /ping}}
  pong: {{method: GET, path: /pong}}
  make: {{method: POST, path: /make}}
"""


@pytest.fixture()
def server() -> Iterator[tuple[str, Recorder]]:
    rec = Recorder()
    with serving(rec, threads=16) as url:
        yield url, rec


def client(tmp_path: Path, url: str, limits: str, attempts: int = 1) -> ConnectorClient:
    path = tmp_path / "limited.yaml"
    path.write_text(CONNECTOR.format(limits=limits, attempts=attempts))
    return ConnectorClient("api", load_connector(path), {"base_url": url}, Redactor())


def many(c: ConnectorClient, n: int, op: str = "ping", threads: int = 8) -> list[int]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda _: c.send(c.prepare(op, {})).status_code, range(n)))


def test_the_rate_spaces_requests_across_threads(tmp_path: Path,
                                                 server: tuple[str, Recorder]) -> None:
    url, rec = server
    c = client(tmp_path, url, "  rate: 20\n  burst: 2")
    start = time.monotonic()
    assert many(c, 22) == [200] * 22
    # 2 at once, then one each 50 ms: the last may not go before 20 intervals have passed
    # (measured from before the first send: a request's arrival may lag its moment, never lead)
    assert rec.times()[-1] - start >= 20 * 0.05


def test_without_limits_nothing_waits(tmp_path: Path, server: tuple[str, Recorder]) -> None:
    url, rec = server
    c = client(tmp_path, url, "  {}")
    assert c.gate.limits is None
    before = c.waited()
    many(c, 10)
    assert c.waited() == before == 0 and rec.count() == 10


def test_a_rate_per_minute_and_the_wait_counted(tmp_path: Path,
                                                server: tuple[str, Recorder]) -> None:
    url, rec = server
    c = client(tmp_path, url, "  rate: 600/min")  # 10 per second
    assert c.gate.interval == pytest.approx(0.1)
    before, start = c.waited(), time.monotonic()  # this thread's
    for _ in range(4):
        c.send(c.prepare("ping", {}))
    assert c.waited() > before  # they waited their turn, and it was counted
    assert rec.times()[-1] - start >= 3 * 0.1


def test_concurrent_caps_requests_in_flight(tmp_path: Path) -> None:
    rec = Recorder(hold=0.05)
    with serving(rec, threads=16) as url:
        c = client(tmp_path, url, "  concurrent: 2")
        assert many(c, 16, threads=8) == [200] * 16
    assert rec.most_in_flight == 2


def test_per_keeps_a_bucket_for_each_value(tmp_path: Path,
                                           server: tuple[str, Recorder]) -> None:
    url, rec = server
    c = client(tmp_path, url, "  rate: 10\n  per: '{{ operation }}'")
    start = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda op: many(c, 4, op, threads=2), ["ping", "pong"]))
    backend = c.gate.backend
    assert isinstance(backend, LocalBackend)
    assert sorted(backend._tat) == ["ping", "pong"]
    for path in ("/ping", "/pong"):
        times = [t for t, p in rec.arrivals if p == path]
        assert len(times) == 4 and times[-1] - start >= 3 * 0.1


def test_the_retry_after_a_429_is_not_made_to_wait_twice(tmp_path: Path,
                                                         server: tuple[str, Recorder]) -> None:
    url, rec = server
    c = client(tmp_path, url, "  {}", attempts=3)
    rec.then(429, retry_after="1")
    before = c.waited()
    first = c.send(c.prepare("ping", {}))  # answered 429, slept 1 s, answered 200
    assert first.status_code == 200 and first.attempts == 2
    t429, t200 = rec.times()
    assert t200 >= t429 + 0.95
    assert c.waited() == before  # the pause had ended when the retry's sleep did


def test_a_pause_holds_calls_that_come_during_it(tmp_path: Path,
                                                server: tuple[str, Recorder]) -> None:
    url, rec = server
    c = client(tmp_path, url, "  {}", attempts=1)
    rec.then(429, retry_after="1")
    assert c.send(c.prepare("ping", {})).status_code == 429  # no retry: the answer
    t429 = rec.times()[0]
    before = c.waited()
    with ThreadPoolExecutor(4) as pool:  # other callers, at once: all wait for the pause
        assert list(pool.map(lambda _: c.send(c.prepare("ping", {})).status_code,
                             range(4))) == [200] * 4
    assert min(rec.times()[1:]) >= t429 + 0.95
    assert c.waited() - before == 0  # those waits were other threads'


def test_the_breaker_opens_fails_fast_and_closes(tmp_path: Path,
                                                 server: tuple[str, Recorder]) -> None:
    url, rec = server
    c = client(tmp_path, url, "  breaker: {failures: 3, cooldown: 0.5}")
    rec.then(503, times=3)
    for _ in range(3):
        assert c.send(c.prepare("ping", {})).status_code == 503
    for _ in range(5):  # open: refused here, never sent
        with pytest.raises(CircuitOpen) as caught:
            c.send(c.prepare("make", {}))
        assert caught.value.sent is False and caught.value.final
    assert rec.count() == 3
    message = caught.value.message
    assert message.startswith("api.make: not sent: connector 'limited' failed 3 times in a "
                              "row (last: HTTP 503), its circuit breaker is open")
    time.sleep(0.55)
    rec.then(503)  # the trial fails: open again for another cool-down
    assert c.send(c.prepare("ping", {})).status_code == 503
    with pytest.raises(CircuitOpen):
        c.send(c.prepare("ping", {}))
    assert rec.count() == 4
    time.sleep(0.55)
    assert c.send(c.prepare("ping", {})).status_code == 200  # the trial passes: closed
    assert [c.send(c.prepare("ping", {})).status_code for _ in range(3)] == [200] * 3
    assert rec.count() == 8 and c.gate.breaker is not None and c.gate.breaker.opened == 2


def test_a_4xx_is_not_a_failure_and_resets_the_count(tmp_path: Path,
                                                     server: tuple[str, Recorder]) -> None:
    url, rec = server
    c = client(tmp_path, url, "  breaker: {failures: 2}")
    for status in (503, 404, 503, 400, 500):
        rec.then(status)
        c.send(c.prepare("ping", {}))
    assert c.send(c.prepare("ping", {})).status_code == 200  # never two in a row


def test_transport_failures_open_it_too(tmp_path: Path) -> None:
    rec = Recorder()
    with serving(rec) as url:
        pass  # the server is gone: connection refused
    c = client(tmp_path, url, "  breaker: {failures: 2, cooldown: 60}")
    for _ in range(2):
        with pytest.raises(Exception) as caught:
            c.send(c.prepare("ping", {}))
        assert not isinstance(caught.value, CircuitOpen)
    with pytest.raises(CircuitOpen, match=r"last: no answer"):
        c.send(c.prepare("ping", {}))


@pytest.mark.parametrize(("limits", "words"), [
    ("  rate: 0", "rate"),
    ("  rate: 5/fortnight", "rate"),
    ("  burst: 0", "burst"),
    ("  concurrent: two", "concurrent"),
    ("  breaker: {failures: 0}", "failures"),
    ("  ceiling: 3", "ceiling"),
    ("  per: '{{ operation '", "limits.per: template syntax error"),
])
def test_bad_limits_are_refused_at_load(tmp_path: Path, limits: str, words: str) -> None:
    path = tmp_path / "limited.yaml"
    path.write_text(CONNECTOR.format(limits=limits, attempts=1))
    with pytest.raises(PlaybookError) as caught:
        load_connector(path)
    assert words in f"{caught.value.path} {caught.value.message}"
    assert caught.value.location is not None and caught.value.location.line >= 5


def test_every_client_of_the_process_shares_the_gate(tmp_path: Path,
                                                     server: tuple[str, Recorder]) -> None:
    """Each run builds its own clients (a batch's rows, a worker's runs): they share one gate
    per connector and base URL, so the limit holds across runs; another base URL, or other
    limits (an environment's), is another gate."""
    url, rec = server
    one, two = (client(tmp_path, url, "  rate: 10") for _ in range(2))
    assert one.gate is two.gate
    start = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda c: [c.send(c.prepare("ping", {})) for _ in range(3)], [one, two]))
    assert rec.times()[-1] - start >= 5 * 0.1  # six requests, one bucket
    other = ConnectorClient("api", one.spec, {"base_url": url + "/v2"}, Redactor())
    assert other.gate is not one.gate
    tighter = ConnectorClient("api", one.spec, {"base_url": url}, Redactor(),
                              limits={"rate": 1})
    assert tighter.gate is not one.gate and tighter.gate.interval == 1.0


def test_a_long_lived_process_does_not_keep_every_gate() -> None:
    import gc

    from runner.connectors import gates

    kept = gates.gate_for("kept", "http://127.0.0.1:1", None)
    for port in range(2, 600):  # sandbox runs, each at new ports
        gates.gate_for("sandboxed", f"http://127.0.0.1:{port}", None)
    gc.collect()
    assert len(gates._gates) <= 256 + 20  # the recent ones, and those clients still hold
    assert gates.gate_for("kept", "http://127.0.0.1:1", None) is kept

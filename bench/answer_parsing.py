"""Scenario ``answer_parsing``: the CPU of reading one HTTP/1.1 answer, in process, from bytes.

The same answers (a JSON body by Content-Length with the headers aiohttp sends, and the same
body chunked with a trailer) parsed N times by: runner's ``wire_answer.Answer`` (status,
headers, the body read whole, over in-memory bytes instead of a socket: what the wire does per
call minus the socket; httptools with runner's glue around it since the httptools part, a
parser written by hand before it: 5.4 us, 6.5 chunked), httptools' ``HttpResponseParser`` alone
(a protocol object collecting the headers and body: the least any glue over it costs), and
h11's client ``Connection`` alone (a request sent first, as h11 requires, then the answer's
events). Process CPU (user + sys) per answer, the median of interleaved rounds. No target:
these say what the parsing costs beside the ~140 us of CPU a whole call costs
(``process_calls``).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

from bench import Outcome, log, median

BODY = b'{"id": 7, "name": "item-7", "department": "DEV", "tags": ["a", "b", "c"]}' * 3
HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
        b"Date: Wed, 02 Dec 2026 13:00:00 GMT\r\nServer: Python/3.11 aiohttp/3.9.5\r\n")
SIZED = HEAD + b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
CHUNKED = (HEAD + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\nX-T: 1\r\n\r\n"
           % (100, BODY[:100], len(BODY) - 100, BODY[100:]))
ANSWERS = {"Content-Length": SIZED, "chunked": CHUNKED}


class _FakeSocket:
    """What ``Answer`` reads of a socket, over the answer's bytes: ``recv`` (the answer in one
    piece, then the end), and ``makefile`` (what the hand parser before httptools read)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def recv(self, size: int) -> bytes:
        data, self._data = self._data[:size], self._data[size:]
        return data

    def makefile(self, mode: str) -> io.BytesIO:
        return io.BytesIO(self._data)

    def close(self) -> None:
        pass


def with_runner(data: bytes) -> bytes:
    from runner.connectors.wire_answer import Answer

    a = Answer(lambda origin, sock: None, "h:80", _FakeSocket(data),  # type: ignore[arg-type]
               "GET", "http://h/x", None)
    body = a.read()
    a.headers.get("content-type")
    return body


class _Collect:
    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.done = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.done = True


def with_httptools(data: bytes) -> bytes:
    import httptools

    p = _Collect()
    parser = httptools.HttpResponseParser(p)
    parser.feed_data(data)
    parser.get_status_code()
    assert p.done
    return b"".join(p.body)


def with_h11(data: bytes) -> bytes:
    import h11

    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/x", headers=[("Host", "h")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(data)
    body: list[bytes] = []
    while True:
        event = conn.next_event()
        if isinstance(event, h11.Data):
            body.append(bytes(event.data))
        elif isinstance(event, h11.EndOfMessage):
            return b"".join(body)
        elif event is h11.NEED_DATA:
            raise AssertionError("incomplete")


PARSERS: dict[str, Callable[[bytes], bytes]] = {
    "runner Answer": with_runner, "httptools": with_httptools, "h11": with_h11}


def _cpu_us(fn: Callable[[bytes], bytes], data: bytes, n: int) -> float:
    started = time.process_time()
    for _ in range(n):
        fn(data)
    return (time.process_time() - started) / n * 1e6


def run(opts: Any) -> Outcome:
    n = 2000 if opts.quick else 20000
    out = Outcome("answer_parsing", f"CPU of parsing one answer, in process ({n:,} a round)")
    for kind, data in ANSWERS.items():
        for name, fn in PARSERS.items():
            assert fn(data) == BODY, (kind, name)
        runs: dict[str, list[float]] = {name: [] for name in PARSERS}
        log(f"answer_parsing: {kind}, {opts.reps} interleaved rounds")
        for _ in range(opts.reps):
            for name, fn in PARSERS.items():
                runs[name].append(_cpu_us(fn, data, n))
        for name, values in runs.items():
            out.add(f"{kind}: {name}", round(median(values), 2), "us CPU")
        out.details[kind] = {name: [round(v, 2) for v in values] for name, values in runs.items()}
    return out

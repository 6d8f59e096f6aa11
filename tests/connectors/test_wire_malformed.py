"""Malformed answers on the direct ``http://`` path (runner/connectors/wire_answer.py, parsed
by httptools): the cases httptools' and llhttp's own test suites refuse that
tests/connectors/test_wire.py did not try (an answer that is not HTTP, a status out of range,
request smuggling's Content-Length with Transfer-Encoding, bad header tokens, chunk sizes that
overflow, chunk data without its CRLF, the head limits), each a transport error that says the
request was sent, on a connection never used again; and the odd answers that are read (1xx
before the answer, a bare LF, bytes after the answer). Real sockets, no mocks."""

from __future__ import annotations

import pytest

from runner.connectors.http import PreparedCall, Transport
from runner.errors import TransportError
from tests.connectors.test_wire import Answer, Scripted, answer, sized

REFUSED = [
    # (the answer, words of the error, "dropped": the head was refused / "broken": the body)
    (lambda _: b"12123123\r\n\r\n", "Expected HTTP/", "dropped"),
    (lambda _: b"HTTP/1.1 1299 FOOSPAM\r\n\r\n", "Invalid response status", "dropped"),
    (answer(b"2\r\nok\r\n0\r\n\r\n", "Content-Length: 2", "Transfer-Encoding: chunked"),
     "Transfer-Encoding can't be present with Content-Length", "dropped"),
    (answer(b"ok", "Content-Length: abc"), "Invalid character in Content-Length", "dropped"),
    (answer(b"ok", "Content-Length: 2", "Content-Length: 2"),
     "Content-Length contained multiple values", "broken"),
    (answer(b"ok", "X-A : 1", "Content-Length: 2"), "Invalid header token", "dropped"),
    (answer(b"ok", "Nonsense", "Content-Length: 2"), "Invalid header token", "dropped"),
    (answer(b"ok", "X\x00A: 1", "Content-Length: 2"), "Invalid header token", "dropped"),
    (lambda _: b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\nok",
     "Missing expected LF after header value", "dropped"),
    (answer(b"ok", *[f"X-{i}: v" for i in range(101)], "Content-Length: 2"),
     "got more than 100 headers", "dropped"),
    (answer(b"ok", "X-A: " + "v" * 70000, "Content-Length: 2"),
     "got more than 65536 bytes when reading header line", "dropped"),
    (answer(b"ok", *[f"X-{i}: " + "v" * 5000 for i in range(60)], "Content-Length: 2"),
     "got more than 262144 bytes of headers", "dropped"),
    (answer(b"fffffffffffffffffff\r\nok\r\n0\r\n\r\n", "Transfer-Encoding: chunked"),
     "Chunk size overflow", "broken"),
    (answer(b"2\r\nokXX0\r\n\r\n", "Transfer-Encoding: chunked"),
     "Expected LF after chunk data", "broken"),
]
CUT = [  # the server closes after these
    (answer(b"10\r\nabc", "Transfer-Encoding: chunked"), "IncompleteRead(3 bytes read)",
     "broken"),
    (answer(b"abc", "Content-Length: 10"), "IncompleteRead(3 bytes read, 7 more expected)",
     "broken"),
    (lambda _: b"HTTP/1.1 200 OK\r\nContent-Le", "closed connection without response",
     "dropped"),
]


@pytest.mark.parametrize(("script", "words", "where", "cut"),
                         [(*case, False) for case in REFUSED] + [(*case, True) for case in CUT])
def test_a_malformed_answer_is_refused_and_its_connection_closed(
        script: Answer, words: str, where: str, cut: bool) -> None:
    srv = Scripted([script, sized(b"after")], close_after=cut)
    t = Transport(read_timeout=5)
    try:
        with pytest.raises(TransportError) as e:
            t.send(PreparedCall("api", "", "GET", srv.url))
        assert words in e.value.message
        assert ("was dropped" if where == "dropped" else "was broken") in e.value.message
        assert e.value.sent is True
        assert t.send(PreparedCall("api", "", "GET", srv.url)).content == b"after"
        assert srv.connections == 2  # the broken answer's connection was not used again
    finally:
        t.close()


def test_interim_answers_are_skipped() -> None:
    """Any 1xx before the answer (RFC 9110 15.2: a client must parse them), not only 100."""
    early = b"HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n"
    srv = Scripted([lambda _: early + early + sized(b"ok", "X-Final: 1")(b"")])
    t = Transport(read_timeout=5)
    try:
        for _ in range(2):
            r = t.send(PreparedCall("api", "", "GET", srv.url))
            assert (r.status_code, r.content, r.headers.get("x-final")) == (200, b"ok", "1")
            assert "link" not in r.headers  # the interim answer's headers are not the answer's
        assert srv.connections == 1
    finally:
        t.close()


def test_bare_lf_lines_are_read_as_http_client_reads_them() -> None:
    srv = Scripted([lambda _: b"HTTP/1.1 200 OK\nContent-Length: 2\nX-A: 1\n\nok"])
    t = Transport(read_timeout=5)
    try:
        r = t.send(PreparedCall("api", "", "GET", srv.url))
        assert (r.content, r.headers["x-a"]) == (b"ok", "1")
    finally:
        t.close()


def test_bytes_after_the_answer_end_its_connection() -> None:
    """Bytes nobody asked for after a complete answer: the answer stands, the connection
    (whose next answer they would corrupt) is not used again."""
    srv = Scripted([lambda _: sized(b"ok")(b"") + b"GARBAGE", sized(b"next")])
    t = Transport(read_timeout=5)
    try:
        assert t.send(PreparedCall("api", "", "GET", srv.url)).content == b"ok"
        assert t.send(PreparedCall("api", "", "GET", srv.url)).content == b"next"
        assert srv.connections == 2
    finally:
        t.close()

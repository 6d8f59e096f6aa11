"""Direct ``http://`` calls on runner's own HTTP/1.1 (runner/connectors/wire.py), against a
loopback server that answers with scripted bytes: framing (Content-Length, chunked, up to the
close, HEAD, 100 Continue), headers (folded, repeated), keep-alive and its end, a connection the
server closed while idle, broken answers, decoding, the request as it goes on the wire, and
threads sharing one transport. No mocks: real sockets, through ``Transport``."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from runner.connectors.http import PreparedCall, Transport
from runner.errors import TransportError

Answer = Callable[[bytes], bytes]  # the request's bytes -> the answer's bytes


@dataclass
class Scripted:
    """A loopback server: each request is answered by the next script (the last repeats);
    ``close_after`` closes the connection after an answer."""

    scripts: list[Answer]
    close_after: bool = False
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0

    def __post_init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.open.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self._answer(conn)
        except (ConnectionResetError, BrokenPipeError):  # the client closed, as it may
            pass

    def _answer(self, conn: socket.socket) -> None:
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buf) < length:
                    buf += conn.recv(65536)
                request, buf = head + b"\r\n\r\n" + buf[:length], buf[length:]
                self.requests.append(request)
                script = self.scripts[min(len(self.requests), len(self.scripts)) - 1]
                conn.sendall(script(request))
                if self.close_after:
                    return

    def drop_idle(self) -> None:
        """Close every connection from the server's side (as a keep-alive timeout does)."""
        for conn in self.open:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def answer(body: bytes, *headers: str, status: str = "200 OK") -> Answer:
    head = "".join(f"{h}\r\n" for h in headers)
    return lambda _: f"HTTP/1.1 {status}\r\n{head}\r\n".encode() + body


def sized(body: bytes, *headers: str, status: str = "200 OK") -> Answer:
    return answer(body, f"Content-Length: {len(body)}", *headers, status=status)


@pytest.fixture
def transport() -> Iterator[Transport]:
    t = Transport(read_timeout=5)
    yield t
    t.close()


def get(t: Transport, url: str, method: str = "GET", **kw: object) -> object:
    return t.send(PreparedCall("api", "", method, url, **kw))  # type: ignore[arg-type]


def test_a_direct_call_goes_on_the_wire_not_through_urllib3(transport: Transport) -> None:
    srv = Scripted([sized(b'{"a": 1}', "Content-Type: application/json")])
    r = transport.send(PreparedCall("api", "", "GET", srv.url + "/x"))
    assert r.json == {"a": 1}
    assert transport._routes._pools == {}  # urllib3's pool for the origin was never made


def test_a_chunked_answer_with_extensions_and_trailers(transport: Transport) -> None:
    body = b"4;ext=1\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n"
    srv = Scripted([answer(body, "Transfer-Encoding: chunked")])
    for _ in range(3):
        r = transport.send(PreparedCall("api", "", "GET", srv.url + "/c"))
        assert r.content == b"Wikipedia in \r\n\r\nchunks."
    assert srv.connections == 1  # read to its end: the connection was used again


def test_an_answer_up_to_the_close_is_read_whole_and_not_reused(transport: Transport) -> None:
    srv = Scripted([answer(b"x" * 70000)], close_after=True)
    for _ in range(2):
        assert len(transport.send(PreparedCall("api", "", "GET", srv.url)).content) == 70000
    assert srv.connections == 2


def test_connection_close_is_honoured(transport: Transport) -> None:
    srv = Scripted([sized(b"ok", "Connection: close")])
    for _ in range(2):
        assert transport.send(PreparedCall("api", "", "GET", srv.url)).content == b"ok"
    assert srv.connections == 2


def test_100_continue_is_skipped_and_head_has_no_body(transport: Transport) -> None:
    srv = Scripted([lambda _: b"HTTP/1.1 100 Continue\r\n\r\n" + sized(b"done")(b""),
                    answer(b"", "Content-Length: 12345")])
    assert transport.send(PreparedCall("api", "", "GET", srv.url)).content == b"done"
    r = transport.send(PreparedCall("api", "", "HEAD", srv.url))
    assert (r.status_code, r.content, r.headers["content-length"]) == (200, b"", "12345")
    srv.scripts.append(sized(b"after"))
    assert transport.send(PreparedCall("api", "", "GET", srv.url)).content == b"after"
    assert srv.connections == 1


def test_folded_and_repeated_headers(transport: Transport) -> None:
    srv = Scripted([sized(b"", "X-Long: one", "  two", "Set-Cookie: a=1; Path=/",
                          "Set-Cookie: b=2; Path=/", "X-Dup: 1", "X-Dup: 2"),
                    sized(b"")])
    r = transport.send(PreparedCall("api", "", "GET", srv.url))
    # the fold replaced by spaces (RFC 9112 5.2: "one or more SP"), as llhttp leaves it
    assert r.headers["x-long"] == "one  two"
    assert r.headers["x-dup"] == "1, 2"  # repeats joined (RFC 9110 5.3), as urllib3 answers
    transport.send(PreparedCall("api", "", "GET", srv.url))
    cookie = [ln for ln in srv.requests[1].split(b"\r\n") if ln.lower().startswith(b"cookie:")]
    assert cookie == [b"Cookie: a=1; b=2"]  # every Set-Cookie line was kept


def test_a_connection_the_server_closed_while_idle_is_not_used(transport: Transport) -> None:
    srv = Scripted([sized(b"first"), sized(b"second")])
    assert transport.send(PreparedCall("api", "", "GET", srv.url)).content == b"first"
    srv.drop_idle()
    for _ in range(100):  # the FIN reaches the client's socket
        if srv.open[0].fileno() == -1:
            break
        threading.Event().wait(0.01)
    r = transport.send(PreparedCall("api", "", "POST", srv.url, json={"once": True},
                                    safe=False))
    assert r.content == b"second"
    assert srv.connections == 2
    assert [q.split(b" ")[0] for q in srv.requests] == [b"GET", b"POST"]  # sent once


@pytest.mark.parametrize(("script", "words"), [
    (answer(b"short", "Content-Length: 50"), "broken"),
    (lambda _: b"HTTP/1.1 2xx Nope\r\n\r\n", "dropped"),
    (lambda _: b"", "dropped"),
    (answer(b"zz\r\nabc", "Transfer-Encoding: chunked"), "broken"),
    (answer(b"ab", "Content-Length: 2", "Content-Length: 3"), "multiple values"),
])
def test_a_broken_answer_is_a_transport_error_sent(transport: Transport, script: Answer,
                                                   words: str) -> None:
    srv = Scripted([script], close_after=True)
    with pytest.raises(TransportError) as e:
        transport.send(PreparedCall("api", "", "GET", srv.url))
    assert words in e.value.message
    assert e.value.sent is True


def test_gzip_in_chunks_and_deflate_are_decoded(transport: Transport) -> None:
    packed = gzip.compress(b'{"zipped": true}')
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(packed), packed)
    srv = Scripted([answer(body, "Transfer-Encoding: chunked", "Content-Encoding: gzip",
                           "Content-Type: application/json")])
    r = transport.send(PreparedCall("api", "", "GET", srv.url))
    assert r.json == {"zipped": True}
    transport.send(PreparedCall("api", "", "GET", srv.url))
    assert srv.connections == 1
    packed = zlib.compress(b'{"deflated": true}')  # no gzip magic: only urllib3's decoder
    srv.scripts.append(sized(packed, "Content-Encoding: deflate"))
    assert transport.send(PreparedCall("api", "", "GET", srv.url)).json == {"deflated": True}


def test_the_request_on_the_wire(transport: Transport) -> None:
    srv = Scripted([sized(b"")])
    transport.send(PreparedCall("api", "", "POST", srv.url + "/a b/%2fé?q=x y&r=ü"))
    line, *headers = srv.requests[0].split(b"\r\n\r\n")[0].split(b"\r\n")
    # percent-encoded as urllib3 encodes a target (%2f normalized to %2F)
    assert line == b"POST /a%20b/%2F%C3%A9?q=x%20y&r=%C3%BC HTTP/1.1"
    names = {h.split(b":")[0].lower(): h.split(b": ", 1)[1] for h in headers}
    assert names[b"host"] == srv.url[7:].encode()
    assert names[b"content-length"] == b"0"  # a POST with no body says so
    assert names[b"user-agent"].startswith(b"runner/")
    assert b"gzip" in names[b"accept-encoding"]
    transport.send(PreparedCall("api", "", "GET", srv.url + "?next=/b#frag"))
    assert srv.requests[1].startswith(b"GET /?next=/b HTTP/1.1\r\n")  # a query with a "/"


def test_a_large_body_arrives_whole(transport: Transport) -> None:
    srv = Scripted([lambda q: sized(str(len(q.partition(b"\r\n\r\n")[2])).encode())(q)])
    for size in (10, 1999, 2000, 300_000):
        r = transport.send(PreparedCall("api", "", "POST", srv.url, json="x" * size))
        assert r.content == str(size + 2).encode()  # the JSON string's quotes
    assert srv.connections == 1


def test_threads_share_the_connections(transport: Transport) -> None:
    srv = Scripted([lambda q: sized(json.dumps({"path": q.split(b" ")[1].decode()}).encode())(q)])
    errors: list[str] = []

    def work(k: int) -> None:
        for i in range(25):
            r = transport.send(PreparedCall("api", "", "GET", f"{srv.url}/{k}/{i}"))
            if r.json != {"path": f"/{k}/{i}"}:
                errors.append(f"{k}/{i}: {r.json}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(srv.requests) == 200
    assert srv.connections <= 8 + 2  # kept and used again, at most one per thread (and spare)


def test_an_answer_read_is_freed_without_the_cyclic_collector(transport: Transport) -> None:
    """A batch runs the cyclic collector seldom (runner.batch.fewer_collections): an answer in a
    cycle with its parser stayed in memory (~3 KB each) long after its run was done with it."""
    import gc

    srv = Scripted([sized(b'{"a": 1}', "Content-Type: application/json"),
                    sized(b"gone", "Connection: close")])
    cut = Scripted([sized(b"cut")], close_after=True)  # then the server closes
    broken = Scripted([lambda _: b"HTTP/1.1 200 OK\r\nbroken"], close_after=True)
    live = lambda: sum(type(o).__name__ == "HttpResponseParser" for o in gc.get_objects())  # noqa: E731
    gc.collect()
    gc.disable()
    try:
        before = live()
        # kept alive, closed by the server's header, by the server, a broken head
        for url in (srv.url, srv.url, cut.url, broken.url):
            try:
                transport.send(PreparedCall("api", "", "GET", url))
            except TransportError:
                pass
        assert live() == before
    finally:
        gc.enable()


def test_a_plain_http_run_imports_neither_urllib3_nor_http_client(tmp_path: Path) -> None:
    """urllib3 and http.client (with email, ssl, urllib.request) are ~40 ms of a run's start:
    a direct http:// call, its login and its answers need none of them; nor certifi (its
    bundle is for https), logging (for rare warnings; concurrent.futures brings it), the email
    package (a Retry-After date), secrets, random or the idna codec (~10 ms more in all); nor,
    of runner, the auth schemes it does not use (digest, the token schemes: ~13 KB of source
    compiled at every start where no .pyc is written, runner/connectors/schemes.py) nor the
    paging code of a call that does not page (~20 KB, runner/steps/paging_keys.py)."""
    srv = Scripted([sized(b'{"token": "t", "expires_in": 60}',
                          "Content-Type: application/json")])
    pb = tmp_path / "pb.yaml"
    pb.write_text("name: plain\nconnectors:\n  api: {use: http}\nsteps:\n"
                  "  - id: get\n    call: api\n    method: GET\n    path: /x\n"
                  "    extract: {t: $.token}\n")
    env = tmp_path / "env.yaml"
    env.write_text(f"description: plain\nconnectors:\n  api: {{base_url: '{srv.url}'}}\n")
    code = ("import sys\nfrom runner.cli import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit as e:\n    print('exit', e.code)\n"
            "print(sorted(m for m in ('urllib3', 'http.client', 'urllib.request', 'ssl', "
            "'email.parser', 'brotli', 'backports.zstd', 'certifi', 'logging', "
            "'concurrent.futures', 'email', 'secrets', 'random', 'encodings.idna', "
            "'runner.connectors.digest_auth', 'runner.connectors.token_auth', "
            "'runner.connectors.paging', 'runner.steps.paging') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, "run", str(pb), "--env", str(env), "-q"],
                         capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "RUNNER_STORE": str(tmp_path / "runs.db"),
                              "NO_PROXY": "127.0.0.1"})
    assert out.stdout.strip().splitlines()[-2:] == ["exit 0", "[]"], out.stdout + out.stderr
    assert len(srv.requests) == 1


def test_the_decoders_are_urllib3s() -> None:
    """Accept-Encoding is worked out without importing urllib3: it must be what urllib3 says
    it can decode."""
    import urllib3

    from runner.connectors.http import ACCEPT_ENCODING, DECODERS

    assert frozenset(urllib3.response.HTTPResponse.CONTENT_DECODERS) | {"identity"} == DECODERS
    assert ACCEPT_ENCODING.split(", ") == [
        e for e in urllib3.response.HTTPResponse.CONTENT_DECODERS if e != "x-gzip"]

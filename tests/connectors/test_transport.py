"""The HTTP transport over real sockets: proxies from the environment, TLS verification,
redirects, timeouts, the size limit, and how bodies and queries are encoded. No mocks: each
test starts a loopback server (a plain one, a TLS one, a forward proxy) and sends through
``runner.connectors.http.Transport``."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers import self_signed_cert

from runner.connectors.http import PreparedCall, Transport
from runner.errors import TransportError

PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy",
              "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
              "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


class Handler(BaseHTTPRequestHandler):
    """Echoes what it received; a few paths redirect, stall or send too much."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: Server

    def log_message(self, *args: Any) -> None:
        pass

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {"Content-Type": "application/json"}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        body = self._body()
        self.server.seen.append((self.command, self.path, dict(self.headers), body))
        path = self.path
        if path.startswith("/redirect/"):  # /redirect/<status>[/<n more hops>]
            parts = path.split("/")
            status = int(parts[2])
            more = int(parts[3]) if len(parts) > 3 else 0
            target = f"/redirect/{status}/{more - 1}" if more > 0 else "/echo?after=redirect"
            self._reply(status, b"", {"Location": target})
        elif path.startswith("/loop"):
            self._reply(302, b"", {"Location": "/loop"})
        elif path.startswith("/offsite"):
            self._reply(302, b"", {"Location": self.server.offsite + "/echo"})
        elif path.startswith("/slow"):
            time.sleep(3)
            self._reply(200, b"{}")
        elif path.startswith("/big"):
            self._reply(200, b"x" * 5000, {"Content-Type": "text/plain"})
        else:
            out = {"method": self.command, "path": path, "body": body.decode("latin-1"),
                   "peer": self.client_address[1],
                   "headers": {k.lower(): v for k, v in self.headers.items()}}
            self._reply(200, json.dumps(out).encode())

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[tuple[str, str, dict[str, str], bytes]]
    offsite: str = ""

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        scheme = "https" if isinstance(self.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://{host}:{port}"


def serve(context: ssl.SSLContext | None = None) -> Server:
    srv = Server(("127.0.0.1", 0), Handler)
    srv.seen = []
    if context is not None:
        srv.socket = context.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[Server]:
    srv = serve()
    yield srv
    srv.shutdown()
    srv.server_close()


def call(url: str, method: str = "GET", **kw: Any) -> PreparedCall:
    return PreparedCall(connector="c", operation="op", method=method, url=url, **kw)


def send(c: PreparedCall, **kw: Any) -> Any:
    t = Transport(**kw)
    try:
        return t.send(c)
    finally:
        t.close()


# -- bodies, queries, keep-alive --------------------------------------------------------------

def test_json_form_and_query_are_encoded_as_before(server: Server) -> None:
    r = send(call(server.url + "/echo?x=1", "POST", json={"name": "café", "n": 1},
                  query={"a": "b c", "flag": True, "none": None, "obj": {"k": [1, 2]},
                         "many": ("x", "y")}))
    got = r.json
    assert got["method"] == "POST"
    assert got["path"] == ("/echo?x=1&a=b+c&flag=true&obj=%7B%22k%22%3A%5B1%2C2%5D%7D"
                           "&many=x&many=y")
    assert json.loads(got["body"].encode("latin-1")) == {"name": "café", "n": 1}
    assert got["headers"]["content-type"] == "application/json; charset=utf-8"
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"

    r = send(call(server.url + "/echo", "POST", form={"user": "a b&c", "skip": None, "n": 2}))
    assert r.json["body"] == "user=a+b%26c&n=2"
    assert r.json["headers"]["content-type"] == "application/x-www-form-urlencoded"

    r = send(call(server.url + "/echo", "POST", headers={"content-type": "text/x-mine"},
                  json=[1]))
    assert r.json["headers"]["content-type"] == "text/x-mine"


def test_connections_are_reused(server: Server) -> None:
    t = Transport()
    try:
        peers = {t.send(call(server.url + "/echo")).json["peer"] for _ in range(3)}
        assert len(peers) == 1  # one connection, kept alive
    finally:
        t.close()
    assert len(server.seen) == 3


def test_answers_over_the_limit_are_refused(server: Server) -> None:
    with pytest.raises(TransportError) as e:
        send(call(server.url + "/big"), max_bytes=1000)
    assert e.value.message == "the answer is 5,000 bytes, over the limit of 1,000"
    assert e.value.sent is True


# -- redirects --------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [301, 302, 303])
def test_a_post_redirected_by_301_302_303_becomes_a_get(server: Server, status: int) -> None:
    r = send(call(server.url + f"/redirect/{status}", "POST", json={"a": 1}))
    assert r.status_code == 200
    assert r.json["method"] == "GET"
    assert r.json["body"] == ""
    assert "content-type" not in r.json["headers"]
    assert r.url == server.url + "/echo?after=redirect"
    assert [s[0] for s in server.seen] == ["POST", "GET"]


@pytest.mark.parametrize("status", [307, 308])
def test_307_and_308_keep_the_method_and_body(server: Server, status: int) -> None:
    r = send(call(server.url + f"/redirect/{status}/1", "POST", json={"a": 1}))
    assert r.json["method"] == "POST"
    assert json.loads(r.json["body"]) == {"a": 1}
    assert [s[0] for s in server.seen] == ["POST", "POST", "POST"]


def test_auth_is_not_sent_to_another_host(server: Server) -> None:
    other = serve()
    try:
        server.offsite = other.url.replace("127.0.0.1", "localhost")
        r = send(call(server.url + "/offsite", headers={"Authorization": "Bearer secret"}))
        assert r.status_code == 200
        assert "authorization" not in r.json["headers"]
        assert server.seen[0][2].get("Authorization") == "Bearer secret"
    finally:
        other.shutdown()
        other.server_close()


def test_endless_redirects_stop_with_a_clear_error(server: Server) -> None:
    with pytest.raises(TransportError) as e:
        send(call(server.url + "/loop"))
    assert e.value.message == f"too many redirects from {server.url[7:]} (more than 30)"
    assert e.value.sent is True
    assert len(server.seen) == 31


# -- timeouts and connection failures ---------------------------------------------------------

def test_connection_refused_is_not_sent() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(TransportError) as e:
        send(call(f"http://127.0.0.1:{port}/x"))
    assert e.value.message == f"cannot connect (127.0.0.1:{port}): [Errno 111] Connection refused"
    assert e.value.sent is False


def test_connect_timeout_is_not_sent() -> None:
    # a listener that never accepts, its backlog filled: the next SYN is never answered
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(0)
    port = s.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            f = socket.socket()
            f.setblocking(False)
            f.connect_ex(("127.0.0.1", port))
            fillers.append(f)
        time.sleep(0.1)
        with pytest.raises(TransportError) as e:
            send(call(f"http://127.0.0.1:{port}/x"), connect_timeout=0.5)
        assert e.value.message == f"timed out connecting to 127.0.0.1:{port}"
        assert e.value.sent is False
    finally:
        for f in fillers:
            f.close()
        s.close()


def test_read_timeout_counts_as_sent(server: Server) -> None:
    with pytest.raises(TransportError) as e:
        send(call(server.url + "/slow", "POST", json={}), read_timeout=0.3)
    assert e.value.message == f"no answer from {server.url[7:]} within 0.3 s"
    assert e.value.sent is True


def test_a_connection_dropped_after_sending_counts_as_sent() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]

    def drop() -> None:
        conn, _ = s.accept()
        conn.recv(65536)
        conn.close()

    threading.Thread(target=drop, daemon=True).start()
    try:
        with pytest.raises(TransportError) as e:
            send(call(f"http://127.0.0.1:{port}/x", "POST", json={}))
        assert e.value.message.startswith(f"the connection was dropped (127.0.0.1:{port}): ")
        assert e.value.sent is True
    finally:
        s.close()


# -- proxies from the environment -------------------------------------------------------------

class ProxyHandler(BaseHTTPRequestHandler):
    """A forward proxy that answers itself: records the absolute-form request line."""

    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        self.server.seen.append((self.command, self.path,
                                 {k.lower(): v for k, v in self.headers.items()}, body))
        out = json.dumps({"via": "proxy", "line": f"{self.command} {self.path}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = _handle


@pytest.fixture
def proxy() -> Iterator[Server]:
    srv = Server(("127.0.0.1", 0), ProxyHandler)
    srv.seen = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_http_proxy_from_the_environment(proxy: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    # the host does not exist: only the proxy can answer
    r = send(call("http://vendor.invalid:8080/api/x", query={"q": "1"}))
    assert r.json == {"via": "proxy", "line": "GET http://vendor.invalid:8080/api/x?q=1"}
    assert proxy.seen[0][2]["host"] == "vendor.invalid:8080"


def test_proxy_credentials_become_a_proxy_authorization(
        proxy: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", proxy.url.replace("http://", "http://ops:s%40cret@"))
    send(call("http://vendor.invalid/x"))
    assert proxy.seen[0][2]["proxy-authorization"] == "Basic b3BzOnNAY3JldA=="


def test_no_proxy_bypasses_the_proxy(proxy: Server, server: Server,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    r = send(call(server.url + "/echo"))
    assert r.json["method"] == "GET"
    assert proxy.seen == []
    assert len(server.seen) == 1


def test_an_unreachable_proxy_is_a_connect_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    with pytest.raises(TransportError) as e:
        send(call("http://vendor.invalid/x"))
    assert e.value.sent is False
    # the proxy is what could not be reached, and the error says so (not the server)
    assert e.value.message.startswith(
        f"cannot connect to the proxy 127.0.0.1:{port} (for vendor.invalid): ")


# -- TLS --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_server(cert: tuple[Path, Path]) -> Iterator[Server]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    srv = serve(ctx)
    yield srv
    srv.shutdown()
    srv.server_close()


def test_an_unknown_certificate_is_refused(tls_server: Server) -> None:
    with pytest.raises(TransportError) as e:
        send(call(tls_server.url + "/echo"))
    assert e.value.message.startswith(f"TLS error talking to {tls_server.url[8:]}: ")
    assert "self-signed certificate" in e.value.message
    assert e.value.sent is False
    assert tls_server.seen == []


def test_the_default_bundle_is_certifis_as_with_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """verify_tls on and no bundle named: certifi's, as requests uses, looked up only when a
    pool is made (a run of http:// calls never imports certifi)."""
    import certifi

    from runner.connectors.tls import pool_args, tls_settings

    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    tls, error = tls_settings(True)
    assert error is None
    assert pool_args(tls) == {"cert_reqs": "CERT_REQUIRED", "ca_certs": certifi.where()}
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    assert pool_args(tls_settings(True)[0])["ca_certs"] == certifi.where()


def test_verify_false_accepts_it(tls_server: Server) -> None:
    with pytest.warns(Warning):  # urllib3 says the request is insecure, as requests did
        r = send(call(tls_server.url + "/echo"), verify=False)
    assert r.json["method"] == "GET"


def test_a_ca_bundle_path_verifies_it(tls_server: Server, cert: tuple[Path, Path]) -> None:
    r = send(call(tls_server.url + "/echo", "POST", json={"ok": 1}), verify=str(cert[0]))
    assert json.loads(r.json["body"]) == {"ok": 1}
    r = send(call(tls_server.url.replace("127.0.0.1", "localhost") + "/echo"),
             verify=str(cert[0]))
    assert r.status_code == 200


def test_the_ca_bundle_from_the_environment(tls_server: Server, cert: tuple[Path, Path],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert[0]))
    assert send(call(tls_server.url + "/echo")).status_code == 200


class TunnelHandler(BaseHTTPRequestHandler):
    """A forward proxy for HTTPS: answers CONNECT and pipes bytes both ways."""

    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, *args: Any) -> None:
        pass

    def do_CONNECT(self) -> None:
        self.server.seen.append((self.command, self.path, {}, b""))
        host, port = self.path.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        client = self.connection

        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        back.start()
        pump(client, upstream)
        back.join(5)
        upstream.close()
        self.close_connection = True


def test_https_through_a_tunnelling_proxy(tls_server: Server, cert: tuple[Path, Path],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    tunnel = Server(("127.0.0.1", 0), TunnelHandler)
    tunnel.seen = []
    threading.Thread(target=tunnel.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HTTPS_PROXY", tunnel.url)
        r = send(call(tls_server.url + "/echo", "POST", json={"via": "tunnel"}),
                 verify=str(cert[0]))
        assert json.loads(r.json["body"]) == {"via": "tunnel"}
        assert [(m, p) for m, p, _, _ in tunnel.seen] == [("CONNECT", tls_server.url[8:])]
        # the certificate is still checked through the tunnel
        with pytest.raises(TransportError) as e:
            send(call(tls_server.url + "/echo"))
        assert e.value.message.startswith("TLS error talking to ")
        assert e.value.sent is False
    finally:
        tunnel.shutdown()
        tunnel.server_close()

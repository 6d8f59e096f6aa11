"""What httpbin cannot show of issue 13's transport, over real loopback sockets: zstd bodies and
an encoding nothing decodes, NO_PROXY with a CIDR range, mutual TLS with a client certificate
and a connector's own CA bundle, and the renewal margin of a short-lived OAuth2 token."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from helpers import self_signed_cert

from runner.connectors.http import DECODERS
from runner.connectors.token_auth import OAuth2ClientCredentials
from runner.errors import TransportError
from tests.connectors.test_auth_flow import answer, call, context
from tests.connectors.test_transport import Server, send, serve
from tests.connectors.test_transport import call as get

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd


def encoded_server(headers: dict[str, str], body: bytes) -> Server:
    """A server that answers every GET with ``headers`` and ``body`` as they are."""

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            for k, v in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

    srv = Server(("127.0.0.1", 0), H)
    srv.seen = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


# -- encodings --------------------------------------------------------------------------------

def test_a_zstd_body_is_decoded() -> None:
    assert "zstd" in DECODERS and "br" in DECODERS  # the dependencies are installed
    srv = encoded_server({"Content-Type": "application/json", "Content-Encoding": "zstd"},
                         zstd.compress(json.dumps({"zstd": True}).encode()))
    try:
        assert send(get(srv.url + "/z")).json == {"zstd": True}
    finally:
        srv.shutdown()
        srv.server_close()


def test_an_encoding_nothing_decodes_is_said() -> None:
    srv = encoded_server({"Content-Type": "application/json", "Content-Encoding": "compress"},
                         b"\x1f\x9d\x90{}")
    try:
        with pytest.raises(TransportError) as e:
            send(get(srv.url + "/z"))
    finally:
        srv.shutdown()
        srv.server_close()
    assert "is encoded as 'compress' (Content-Encoding), which runner cannot decode" \
        in e.value.message
    assert e.value.final  # a retry gets the same bytes


# -- NO_PROXY ---------------------------------------------------------------------------------

@pytest.mark.parametrize("no_proxy", ["127.0.0.0/8", "10.0.0.0/8,127.0.0.1/32", "127.0.0.1"])
def test_no_proxy_with_a_cidr_range_goes_direct(no_proxy: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    srv = serve()
    try:
        # the proxy does not exist: only a direct request gets an answer
        monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
        monkeypatch.setenv("NO_PROXY", no_proxy)
        r = send(get(srv.url + "/echo"))
        assert r.json["method"] == "GET" and len(srv.seen) == 1
    finally:
        srv.shutdown()
        srv.server_close()


def test_a_host_outside_no_proxy_goes_through_the_proxy_and_its_error_names_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "10.0.0.0/8")
    with pytest.raises(TransportError) as e:
        send(get("http://vendor.invalid/x"))
    assert e.value.message.startswith("cannot connect to the proxy 127.0.0.1:9 "
                                      "(for vendor.invalid)")
    assert e.value.sent is False


# -- mutual TLS and a connector's CA bundle ---------------------------------------------------

@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    server_crt, server_key = self_signed_cert(tmp_path_factory.mktemp("server"))
    client_crt, client_key = self_signed_cert(tmp_path_factory.mktemp("client"))
    return {"server_crt": server_crt, "server_key": server_key,
            "client_crt": client_crt, "client_key": client_key}


@pytest.fixture
def mtls_server(certs: dict[str, Path]) -> Iterator[Server]:
    """A TLS server that asks for a client certificate and trusts only ``client_crt``."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(certs["server_crt"]), str(certs["server_key"]))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(str(certs["client_crt"]))
    srv = serve(ctx)
    yield srv
    srv.shutdown()
    srv.server_close()


def test_a_client_certificate_is_presented(mtls_server: Server,
                                           certs: dict[str, Path]) -> None:
    r = send(get(mtls_server.url + "/echo"), ca_bundle=str(certs["server_crt"]),
             client_cert=str(certs["client_crt"]), client_key=str(certs["client_key"]))
    assert r.status_code == 200 and r.json["method"] == "GET"


def test_a_cert_and_key_in_one_pem_file(mtls_server: Server, certs: dict[str, Path],
                                        tmp_path: Path) -> None:
    both = tmp_path / "both.pem"
    both.write_bytes(certs["client_crt"].read_bytes() + certs["client_key"].read_bytes())
    r = send(get(mtls_server.url + "/echo"), ca_bundle=str(certs["server_crt"]),
             client_cert=str(both))
    assert r.status_code == 200


def test_without_a_client_certificate_the_server_refuses(mtls_server: Server,
                                                         certs: dict[str, Path]) -> None:
    with pytest.raises(TransportError) as e:
        send(get(mtls_server.url + "/echo"), ca_bundle=str(certs["server_crt"]))
    assert "TLS error" in e.value.message or "dropped" in e.value.message \
        or "broken" in e.value.message


def test_without_the_ca_bundle_the_server_is_not_trusted(mtls_server: Server,
                                                         certs: dict[str, Path]) -> None:
    with pytest.raises(TransportError) as e:
        send(get(mtls_server.url + "/echo"), client_cert=str(certs["client_crt"]),
             client_key=str(certs["client_key"]))
    assert "TLS error" in e.value.message and e.value.final


def test_a_missing_certificate_file_is_said_before_sending(tmp_path: Path) -> None:
    with pytest.raises(TransportError) as e:
        send(get("https://127.0.0.1:9/x"), client_cert=str(tmp_path / "nope.pem"))
    assert "client_cert file" in e.value.message and e.value.sent is False


# -- the renewal margin of a short-lived token ------------------------------------------------

def login(expires_in: float, margin: float | None = None) -> OAuth2ClientCredentials:
    conf: dict[str, Any] = {"scheme": "oauth2_client_credentials", "token_url": "http://x/t"}
    if margin is not None:
        conf["margin"] = margin
    auth = OAuth2ClientCredentials(conf, context())
    flow = auth.flow(call())
    next(flow)
    flow.send(answer(200, json.dumps({"access_token": "one",
                                      "expires_in": expires_in}).encode()))
    flow.close()
    return auth


def reused(auth: OAuth2ClientCredentials) -> bool:
    """Whether the next call goes with the cached token (no token request first)."""
    first = next(auth.flow(call()))
    return first.url != "http://x/t"


def test_a_3_second_token_is_reused() -> None:
    # the default margin is 30 s: before, a 3 s token was "expiring" from the start
    assert reused(login(3))


def test_a_long_token_keeps_the_configured_margin() -> None:
    auth = login(3600)
    assert auth.renew_at is not None and auth.expires_at is not None
    assert auth.expires_at - auth.renew_at == pytest.approx(30)
    auth = login(60, margin=30)  # a tenth of 60 s is under the margin: 6 s
    assert auth.renew_at is not None and auth.expires_at is not None
    assert auth.expires_at - auth.renew_at == pytest.approx(6)


def test_a_token_past_its_renewal_time_is_renewed() -> None:
    auth = login(1)  # renewed 0.1 s before it expires
    assert reused(auth)
    time.sleep(0.95)
    assert not reused(auth)


# -- the decoders are the transport's: loaded only when a run sends ---------------------------

@pytest.mark.parametrize("args", [["--version"], ["validate", "playbooks/onboard-employee.yaml"]])
def test_version_and_validate_load_no_transport(args: list[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    code = ("import sys\nfrom runner.cli import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in ('urllib3', 'brotli', 'brotlicffi', 'backports.zstd', "
            "'runner.connectors.http', 'requests') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         check=True, cwd=root).stdout
    assert out.strip().splitlines()[-1] == "[]"

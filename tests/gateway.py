"""A stand-in for a gateway or load balancer in front of a vendor, run as its own process.

    python tests/gateway.py UPSTREAM_URL [--fail STATUS] [--path PREFIX]

It forwards every request to UPSTREAM_URL (scheme, host and port) and relays the answer, except
for a request that is not a GET whose path starts with PREFIX: that one is forwarded, the
vendor acts on it, and the gateway then answers STATUS (default 504) with an HTML page of its
own, as a gateway whose upstream was too slow does. It prints ``listening on PORT`` once it
accepts connections. Loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "content-length"}


def serve(upstream: str, fail: int, prefix: str) -> None:
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                payload = answer.read()
                status, relayed = answer.status, answer.getheaders()
            finally:
                conn.close()
            if self.command != "GET" and self.path.startswith(prefix):
                # the vendor has acted; the client hears only that the gateway timed out
                page = (f"<html><body><h1>{fail} Gateway Timeout</h1>"
                        "<p>upstream did not answer in time</p></body></html>").encode()
                self._answer(fail, [("Content-Type", "text/html")], page)
                return
            self._answer(status, relayed, payload)

        def _answer(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
            self.send_response(status)
            for k, v in headers:
                if k.lower() not in HOP_BY_HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("upstream")
    parser.add_argument("--fail", type=int, default=504)
    parser.add_argument("--path", default="/")
    args = parser.parse_args(argv)
    serve(args.upstream, args.fail, args.path)


if __name__ == "__main__":
    main(sys.argv[1:])

"""A tiny loopback HTTP server of the suite's own, for answers no simulator gives (a 20 MB
JSON list). Keep-alive, Nagle off, and the body sent from the bytes given without a copy, so
the server is not what the benchmark measures."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    bodies: dict[str, tuple[bytes, dict[str, str]]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?")[0]
        body, headers = self.bodies.get(path, (b'{"error": "not found"}', {}))
        status = 200 if path in self.bodies else 404
        head = [f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}",
                f"Content-Length: {len(body)}",
                *(f"{k}: {v}" for k, v in {"Content-Type": "application/json", **headers}.items())]
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        self.wfile.write(memoryview(body))
        self.wfile.flush()

    do_POST = do_GET


class LoopbackServer:
    """Serves fixed bodies at fixed paths on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self.bodies: dict[str, tuple[bytes, dict[str, str]]] = {}
        handler = type("Handler", (_Handler,), {"bodies": self.bodies})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    def serve(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> str:
        self.bodies[path] = (body, headers or {})
        return self.url + path

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

"""The HTTP/1.1 server a simulator answers on: threaded, keep-alive, fast on loopback, and
where the fault settings bend or break an answer.

``http.server`` as it is stalls ~40 ms a request on delayed ACK: here Nagle is disabled and
the status line, headers and body go out in one write, so a simulator answers in well under a
millisecond. The handler knows the simulator only as :class:`Served` (its routes, its counts,
its faults), so this room sits below :class:`runner.simulator.Simulator`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from runner.simulator_faults import Faults
from runner.simulator_messages import Reply, Request, json_reply


class Served(Protocol):
    """What the handler needs of the simulator it serves."""

    faults: Faults
    calls: Counter[str]
    lock: threading.RLock

    def route_name(self, req: Request) -> str:
        """The name of the route ``req`` goes to; empty when none does."""
        ...

    def dispatch(self, req: Request) -> tuple[str, Reply]:
        """Run the route ``req`` goes to: its name and its reply."""
        ...


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


class RequestHandler(BaseHTTPRequestHandler):
    simulator: Served
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "runner-sim"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and the demo read their own output

    def _serve(self) -> None:
        sim = self.simulator
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(
            method=self.command,
            path=split.path,
            query={k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        faults = sim.faults
        route_name = sim.route_name(req)
        if faults.latency and faults.roll(1.0, route_name):
            time.sleep(faults.latency)
        if faults.roll(faults.drop_before, route_name):
            self._drop()
            return
        if faults.roll(faults.rate_limit, route_name):
            reply = json_reply(429, {"error": "Too Many Requests"},
                               {"Retry-After": str(faults.retry_after)})
        elif faults.roll(faults.error_5xx, route_name):
            reply = json_reply(faults.status_5xx, {"error": "Service Unavailable"})
        else:
            with sim.lock:
                sim.calls[route_name or "unrouted"] += 1
            _, reply = sim.dispatch(req)
            if faults.roll(faults.drop_after, route_name):
                self._drop()
                return
            if faults.roll(faults.truncate, route_name):
                reply = Reply(reply.status, reply.body[: max(1, len(reply.body) // 2)],
                              {**reply.headers, "X-Declared-Length": str(len(reply.body))})
                self._write(reply, declared_length=len(reply.body) * 2 + 1)
                self._drop()
                return
            if faults.roll(faults.invalid_body, route_name):
                reply = Reply(reply.status, b"\xff\xfe<<not json or xml>>", reply.headers)
            elif faults.roll(faults.bad_gzip, route_name):
                reply = Reply(reply.status, b"\x1f\x8bnot really gzip",
                              {**reply.headers, "Content-Encoding": "gzip"})
        self._write(reply)

    def _write(self, reply: Reply, declared_length: int | None = None) -> None:
        # One write for status line, headers and body: no Nagle/delayed-ACK stall.
        head = [f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}"]
        length = declared_length if declared_length is not None else len(reply.body)
        headers = {**reply.headers, "Content-Length": str(length)}
        head += [f"{k}: {v}" for k, v in headers.items()]
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body
        self.wfile.write(payload)
        self.wfile.flush()

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def __getattr__(self, name: str) -> Any:
        # Non-standard verbs (ERA's LOOKUP) arrive as do_LOOKUP.
        if name.startswith("do_") and name[3:].isalpha() and name[3:].isupper():
            return self._serve
        raise AttributeError(name)

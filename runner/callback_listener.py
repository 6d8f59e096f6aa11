"""The listener that receives callbacks: a small HTTP server, in this process for a local run
or as ``runner callbacks`` beside workers.

A POST to a callback URL (:mod:`runner.callback_token`) is checked, then kept in the store for
the run (:func:`runner.callback_inbox.receive`): 200 when it is taken; 403 forged, 410
expired, 409 a second POST (each refusal recorded on the run it names), 404 anything else,
413 a body over 1 MB, 405 another method. ``on_received(run_id)`` is told of each callback
kept (``runner callbacks`` wakes the run through the broker with it).

Where a run's callback URLs point (:func:`base_url`): ``--callback-url`` (``configure``),
else the environment's ``callbacks: {url:}``, else, in a process that may listen (not a
worker), this process's own listener, started on first use on the environment's ``callbacks:
{bind:}`` (default ``127.0.0.1`` on a free port).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from runner.callback_inbox import MAX_BODY, receive, refused
from runner.callback_token import Refused, callback_key, check
from runner.errors import InvalidInput
from runner.store import Store

log = logging.getLogger("runner.callbacks")

_config: dict[str, Any] = {"url": None, "listen": True}
_local: Listener | None = None
_lock = threading.Lock()


def configure(*, url: str | None = None, listen: bool | None = None) -> None:
    """``url``: where callback URLs point (``--callback-url``); ``listen``: False in a worker
    (``runner callbacks`` receives its runs' callbacks)."""
    if url is not None:
        _config["url"] = url
    if listen is not None:
        _config["listen"] = listen


def listening() -> bool:
    """Whether callbacks reach this process (a local run), not ``runner callbacks``."""
    return bool(_config["listen"])


def base_url(settings: Mapping[str, Any], store: Store) -> str:
    """Where a run's callback URLs point (see the module's notes); starts the local listener
    if that is where."""
    global _local
    given = _config["url"] or settings.get("url")
    if not _config["listen"]:
        if not given:
            raise InvalidInput("a run on a worker receives callbacks through `runner callbacks`,"
                               " but its environment has no callbacks: url:",
                               hint="add callbacks: {url: http://HOST:PORT} to the environment "
                               "and run `runner callbacks --bind HOST:PORT` with the same store")
        return str(given)
    with _lock:
        if _local is None or _local.store.url != store.url:
            if _local is not None:  # another store (tests): that listener's runs are over
                _local.stop()
            host, _, port = str(settings.get("bind") or "127.0.0.1:0").rpartition(":")
            # its own store: the run's is closed when the run ends, the listener lives on
            _local = Listener(Store(store.url), host or "127.0.0.1", int(port or 0))
            _local.start()
        return str(given or _local.url)


class Listener:
    """The HTTP server; ``start`` serves it on a thread, ``serve`` in the caller's."""

    def __init__(self, store: Store, host: str = "127.0.0.1", port: int = 0,
                 on_received: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.secret = callback_key(store.url)
        self.on_received = on_received
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                listener.handle(self)

            def do_GET(self) -> None:
                self._answer(405, "POST a callback here")

            do_PUT = do_DELETE = do_GET

            def _answer(self, status: int, message: str) -> None:
                answer(self, status, message)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug(format, *args)

        try:
            self.server = ThreadingHTTPServer((host, port), Handler)
        except OSError as e:
            raise InvalidInput(f"cannot listen for callbacks on {host}:{port}: {e.strerror}",
                               hint="give another bind address (callbacks: bind: or --bind)") \
                from None
        self.server.daemon_threads = True
        bound_host, bound_port = self.server.server_address[:2]
        shown = bound_host.decode() if isinstance(bound_host, bytes) else str(bound_host)
        self.url = f"http://{shown}:{bound_port}"

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        sender = h.client_address[0]
        try:
            token = check(self.secret, h.path)
        except Refused as e:
            refused(self.store, e.run_id, e.key, e.reason, sender)
            log.warning("callback refused (%s) from %s", e.reason, sender)
            answer(h, e.status, e.reason)
            return
        size = int(h.headers.get("Content-Length") or 0)
        if size > MAX_BODY:
            refused(self.store, token.run_id, token.key, f"a body of {size} bytes", sender)
            answer(h, 413, f"a callback's body is at most {MAX_BODY} bytes")
            return
        body = h.rfile.read(size) if size else b""
        status, message = receive(self.store, token.run_id, token.key, body,
                                  h.headers.get("Content-Type", ""), sender)
        answer(h, status, message)
        if status == 200 and self.on_received is not None:
            try:
                self.on_received(token.run_id)
            except Exception as e:  # the broker is away: the run finds it when it looks
                log.warning("run %s: could not be woken: %s", token.run_id, e)

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, daemon=True,
                         name="callback-listener").start()

    def serve(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.store.close()


def answer(h: BaseHTTPRequestHandler, status: int, message: str) -> None:
    body = json.dumps({"status": status, "message": message}).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)

"""Real local receivers for notifications: an HTTP endpoint apprise's ``json://`` posts to (a
WSGI app served by cheroot, ``tests/wsgi_servers.py``) and an SMTP server (aiosmtpd) its
``mailto://`` sends to, both on loopback; each keeps what it received."""

from __future__ import annotations

import email
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

from wsgi_servers import serving


class Posts:
    """A WSGI app that keeps every POST's path and JSON body, and answers ``status``."""

    def __init__(self, status: str = "200 OK") -> None:
        self.status = status
        self.got: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size)
        with self._lock:
            self.got.append((environ.get("PATH_INFO", ""), json.loads(body or b"{}")))
        start_response(self.status, [("Content-Type", "text/plain")])
        return [b"ok"]

    @property
    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [b for _, b in self.got]


@contextmanager
def json_receiver(status: str = "200 OK") -> Iterator[tuple[str, Posts]]:
    """(the ``json://`` URL to give apprise, what it received)."""
    posts = Posts(status)
    with serving(posts) as url:
        yield "json://" + url.split("://", 1)[1] + "/hook", posts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def texts(self) -> list[str]:
        """Each mail's subject and plain-text body, decoded."""
        out = []
        for m in self.mails:
            parts = [p for p in m.walk() if p.get_content_type() == "text/plain"]
            body = b"".join(p.get_payload(decode=True) or b"" for p in parts)
            out.append(f"{m['Subject']}\n{body.decode('utf-8')}")
        return out


@contextmanager
def smtp_receiver() -> Iterator[tuple[str, Mailbox]]:
    """(a ``mailto://`` URL to this server, without TLS, and its mailbox)."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield (f"mailto://127.0.0.1:{port}?from=runner@example.com&to=ops@example.com"
               "&mode=insecure", box)
    finally:
        controller.stop()

"""What a simulator's route is handed and what it returns: a :class:`Request` and a
:class:`Reply`, with the usual JSON, text and gzip replies.

The room below both the :class:`runner.simulator.Simulator` (whose routes take and give these)
and its HTTP server (which parses the one and writes the other). Authors import them from
``runner.connectors``.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Request:
    """One request as a simulator route sees it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route pattern

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, str]:
        """The body parsed as application/x-www-form-urlencoded (last value wins)."""
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8")).items()}

    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:] if value.lower().startswith("bearer ") else None


@dataclass
class Reply:
    """A simulator's answer: status, body, headers."""
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, obj: Any, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(obj).encode("utf-8")
    content_type = {"Content-Type": "application/json; charset=utf-8"}
    return Reply(status, body, {**content_type, **(headers or {})})


def text_reply(status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Reply:
    return Reply(status, text.encode("utf-8"), {"Content-Type": content_type})


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=5, mtime=0)

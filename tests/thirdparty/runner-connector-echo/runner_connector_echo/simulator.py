"""The Echo API simulator, on runner's simulator base: ``runner run --env sandbox`` uses it.

A message is ``queued`` for its first ``queued_reads`` reads, then ``delivered``.
"""

from __future__ import annotations

import secrets
from typing import Any

from runner.connectors import Reply, Request, Simulator, json_reply, route
from runner_connector_echo.hooks import signature


class EchoSimulator(Simulator):
    name = "echo"
    prefix = "/api"

    def __init__(self, *, queued_reads: int = 1, api_key: str | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.queued_reads = queued_reads
        self.api_key = api_key or secrets.token_urlsafe(24)
        self.messages: dict[str, dict[str, Any]] = {}

    def connector_settings(self) -> dict[str, Any]:
        return {"base_url": self.url, "api_key": self.api_key}

    def secret_values(self) -> list[str]:
        return [self.api_key]

    def _refused(self, req: Request) -> Reply | None:
        if req.headers.get("x-echo-key") != self.api_key:
            return json_reply(401, {"ok": False, "reason": "bad key"})
        if req.headers.get("x-echo-signature") != signature(req.method, req.path, self.api_key):
            return json_reply(401, {"ok": False, "reason": "bad signature"})
        return None

    @route("POST", "/messages", "post_message")
    def post_message(self, req: Request) -> Reply:
        refused = self._refused(req)
        if refused:
            return refused
        body = req.json()
        if not isinstance(body, dict) or not body.get("text"):
            return json_reply(400, {"ok": False, "reason": "text is required"})
        mid = secrets.token_hex(4)
        with self.lock:
            self.messages[mid] = {"id": mid, "text": body["text"],
                                  "channel": body.get("channel", "general"), "reads": 0}
        return json_reply(201, {"ok": True, "data": {"id": mid}})

    @route("GET", "/messages/(?P<id>[^/]+)", "get_message")
    def get_message(self, req: Request) -> Reply:
        refused = self._refused(req)
        if refused:
            return refused
        with self.lock:
            msg = self.messages.get(req.params["id"])
            if msg is None:
                return json_reply(404, {"ok": False, "reason": "no such message"})
            msg["reads"] += 1
            state = "delivered" if msg["reads"] > self.queued_reads else "queued"
            data = {k: v for k, v in msg.items() if k != "reads"}
        return json_reply(200, {"ok": True, "data": {**data, "state": state}})

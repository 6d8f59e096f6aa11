"""The process benches' server: a small aiohttp app that is not the project's simulator.

``python -m bench.aioserver [--token T]`` binds a free loopback port, prints its base URL on
one line of stdout (the bench reads it) and serves until it is stopped:

- ``POST /login`` with ``{"username": ..., "password": ...}`` (the pair in
  bench/processes.py): answers ``{"token": ..., "expires_in": 3600}``;
- ``GET /items/{id}``, with ``Authorization: Bearer <a token it issued, or --token>``: answers
  ``{"id": id, "items": [...]}``, a list of 12 items of kinds a, b, c in turn, so a filter on
  ``kind == 'b'`` picks ids ``<id>-1``, ``<id>-4``, ``<id>-7``, ``<id>-10``; 401 without a token;
- ``GET /health``: ``ok`` (the bench waits for it before the first timed process);
- ``GET /stats``: how many logins and item reads it answered (the bench checks the counts).

It runs in its own process, so the client processes being timed have the cores and the GIL to
themselves, and answers in well under a millisecond (a body of ~0.6 kB, built per id).
"""

from __future__ import annotations

import argparse
import json
import secrets
import socket
import sys

from aiohttp import web

from bench.processes import PASSWORD, USERNAME

KINDS = "abc"
ITEMS = 12


def document(item_id: str) -> bytes:
    items = [{"id": f"{item_id}-{k}", "kind": KINDS[k % len(KINDS)], "size": k * 10}
             for k in range(ITEMS)]
    return json.dumps({"id": item_id, "items": items}).encode()


def app(static_token: str | None) -> web.Application:
    tokens: set[str] = {static_token} if static_token else set()
    stats = {"logins": 0, "items": 0, "refused": 0}

    async def login(request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("username") != USERNAME or body.get("password") != PASSWORD:
            stats["refused"] += 1
            return web.json_response({"error": "bad credentials"}, status=401)
        token = secrets.token_urlsafe(24)
        tokens.add(token)
        stats["logins"] += 1
        return web.json_response({"token": token, "expires_in": 3600})

    async def item(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in tokens:
            stats["refused"] += 1
            return web.json_response({"error": "no valid bearer token"}, status=401)
        stats["items"] += 1
        return web.Response(body=document(request.match_info["id"]),
                            content_type="application/json")

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def get_stats(request: web.Request) -> web.Response:
        return web.json_response(stats)

    application = web.Application()
    application.add_routes([web.post("/login", login), web.get("/items/{id}", item),
                            web.get("/health", health), web.get("/stats", get_stats)])
    return application


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--token", help="a bearer token accepted without a login")
    a = p.parse_args()
    # bind here, so the port is known before the loop starts and no other process takes it
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    web.run_app(app(a.token), sock=sock, print=None, access_log=None,
                handle_signals=True)
    sys.exit(0)


if __name__ == "__main__":
    main()

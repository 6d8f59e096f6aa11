"""A batch's runs share keep-alive connections (runner/connectors/wire.py ``for_transport``): a
service sees about as many connections as the batch has exchanges in flight (its hubs), not one
per run, and when the batch ends every one of them is closed, so a server in the same process
can shut down (a process-wide pool was taken back for that: its connections outlived the runs,
and this server's ``server_close`` waited on its handler threads forever)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import answer_json

from runner.batch import run_batch
from runner.park import THREADS


class Counting(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every handler thread: a kept connection
    block_on_close = True  # would hold it
    connections = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def setup(self) -> None:
        super().setup()
        assert isinstance(self.server, Counting)
        self.server.connections += 1  # one handler (one thread) per connection

    def do_GET(self) -> None:  # http.server calls it by this name
        answer_json(self, b'{"ok": true}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Counting]:
    srv = Counting(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()


def test_a_batchs_runs_share_connections_closed_when_it_ends(
        tmp_path: Path, server: Counting) -> None:
    rows = THREADS * 3  # every run under way at once, each waiting between its two calls
    env = tmp_path / "env.yaml"
    env.write_text(f"connectors:\n  h: {{base_url: 'http://127.0.0.1:{server.server_port}'}}\n")
    pb = tmp_path / "pb.yaml"
    pb.write_text("""\
name: two calls and a wait
inputs: {n: {type: integer}}
connectors:
  h: {use: http}
steps:
  - {id: first, call: h, method: GET, path: /a}
  - {sleep: 0.3s}
  - {id: second, call: h, method: GET, path: /b}
""")
    summary = run_batch(pb, env=str(env), rows=[{"n": i} for i in range(rows)],
                        concurrency=rows, store=False)
    assert summary.passed == rows, summary.failures
    # a connection per exchange in flight at most (16 hubs), not one per run (48)
    assert 1 <= server.connections <= THREADS
    # the batch's end closed them all: the server shuts down, its handler threads ended
    server.shutdown()
    closing = threading.Thread(target=server.server_close, daemon=True)
    closing.start()
    closing.join(60)  # not a timing: a kept connection would hold it for ever
    assert not closing.is_alive(), "a connection of the batch outlived it"

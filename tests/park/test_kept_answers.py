"""A run keeps each step's answer (``steps.<id>.response``) to its end, but not what was decoded
from it: once an answer is no longer ``response``, and while a poll waits, its parsed JSON and
text are dropped (5,000 parked runs kept ~2.3 KB of parse each), and decoded again from its bytes
if a later step reads it. A real run on a hub, against a real loopback server."""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers import answer_json

from runner import run_state
from runner.batch import run_batch
from runner.connectors.response import _UNSET, Response


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    polls = 0

    def do_GET(self) -> None:  # http.server calls it by this name
        if self.path.startswith("/status"):
            Handler.polls += 1
            data: dict[str, Any] = {"done": Handler.polls >= 3}
        else:
            data = {"path": self.path, "things": [{"n": i, "name": f"item {i}"} for i in range(5)]}
        answer_json(self, json.dumps(data).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def url() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    srv.server_close()


def test_answers_kept_by_a_waiting_run_hold_no_parse_and_are_read_again(
        tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []  # at each wait: the kept answers that still hold a parse
    real = run_state.RunState.sleep

    def sleep(self: Any, *args: Any, **kw: Any) -> Any:
        seen.append([r.url for r in gc.get_objects() if isinstance(r, Response)
                     and (r._json is not _UNSET or r._text is not _UNSET)])
        return real(self, *args, **kw)

    monkeypatch.setattr(run_state.RunState, "sleep", sleep)
    env = tmp_path / "env.yaml"
    env.write_text(f"connectors:\n  h: {{base_url: '{url}'}}\n")
    pb = tmp_path / "pb.yaml"
    pb.write_text("""\
name: two answers kept, then a poll
inputs: {n: {type: integer}}
connectors:
  h: {use: http}
steps:
  - {id: first, call: h, method: GET, path: /first, extract: {n1: "$.things[1].n"}}
  - {id: second, call: h, method: GET, path: /second}
  - id: wait
    call: h
    method: GET
    path: /status
    poll-until: "response.json.done"
    every: 0.01s
outputs:
  first: "{{ steps.first.response.json.things[4].name }}"
  second: "{{ steps.second.response.json.path }} {{ steps.second.response.text | length }}"
  n1: "{{ n1 }}"
""")
    results: list[Any] = []
    summary = run_batch(pb, env=str(env), rows=[{"n": 1}], concurrency=1, store=False,
                        on_result=lambda i, inputs, r, f: results.append(r))
    assert summary.passed == 1, summary.failures
    assert len(seen) == 2 and seen == [[], []], seen  # two waits; no parse kept in either
    second = json.dumps({"path": "/second",
                         "things": [{"n": i, "name": f"item {i}"} for i in range(5)]})
    # read again from the bytes kept, as they were
    assert results[0].outputs == {"first": "item 4", "second": f"/second {len(second)}",
                                  "n1": 1}

"""A poll's attempts share what they have in common with the attempt before (the request, the
answer's headers and body) instead of each holding a copy: a batch holds thousands of runs,
each keeping every attempt until it ends. What reports and history show is the same."""

from __future__ import annotations

import json
from itertools import pairwise

from helpers import FAST, PLAYBOOKS

from runner.launch import launch
from runner.results import Exchange
from runner.sandbox import Sandbox

DISTRIBUTE = PLAYBOOKS / "automatos" / "distribute-package.yaml"
MACHINES = [{"machineId": "M001", "hostname": "HOST1", "department": "DEV"}]


def test_poll_attempts_share_equal_parts_and_show_them_all() -> None:
    # done at 1.6 s: attempts at 0, 0.5, 1.25 (scheduled, then running) and 2.4 s
    box = Sandbox({"automatos": {**FAST["automatos"], "schedule_seconds": 0.9,
                                 "run_seconds": 0.7, "machines": MACHINES}})
    try:
        run = launch(DISTRIBUTE, env="sandbox", inputs={"hostname": "HOST1"}, sandbox=box)
    finally:
        box.stop()
    assert run.status == "passed", run.error
    wait = next(s for s in run.steps if s.step_id == "wait")
    xs = wait.exchanges
    assert len(xs) >= 3
    for prev, x in pairwise(xs):
        assert x.request == prev.request and x.request is prev.request  # one request, shared
        assert x.response is not None and prev.response is not None
        assert x.response["headers"] is prev.response["headers"] or \
            x.response["headers"] != prev.response["headers"]
        if x.response["body"] == prev.response["body"]:
            assert x.response["body"] is prev.response["body"]
    assert any(x.response["body"] is prev.response["body"] for prev, x in pairwise(xs)
               if x.response and prev.response)
    # every attempt is still reported in full, in order
    shown = json.loads(json.dumps(run.to_dict()))
    attempts = next(s for s in shown["steps"] if s["id"] == "wait")["exchanges"]
    assert [a["attempt"] for a in attempts] == list(range(1, len(xs) + 1))
    assert all(a["request"]["url"].endswith("/express/distribution") and
               a["response"]["body"] for a in attempts)
    assert not hasattr(xs[0], "__dict__")  # slots: no dict per exchange
    assert "waited_ms" not in Exchange(request={}).to_dict()


def test_answers_share_their_header_names_and_plain_values_not_cookies() -> None:
    """The header names of every answer, and the values of headers that say nothing of a run
    (content-type, server...), are one str each for the process (5,000 parked runs keep ~3
    answers each); a Set-Cookie's or a Location's value is each answer's own."""
    from runner.connectors.http import answer_headers

    def came(cookie: str) -> list[tuple[str, str]]:  # each answer decodes its own strs
        return [("Content-Type".upper().title(), "application/json"[:]),
                ("".join(["Set-", "Cookie"]), f"session={cookie}"),
                ("Server", "".join(["Base", "HTTP/0.6"]))]

    one, two = answer_headers(came("alice-s3cret")), answer_headers(came("bob-s3cret"))
    assert list(one) == ["content-type", "set-cookie", "server"]
    (k1, v1), (k2, v2) = next(iter(one.items())), next(iter(two.items()))
    assert k1 is k2 and v1 is v2  # one str for both answers
    assert one["server"] is two["server"]
    assert all(a is b for a, b in zip(one, two, strict=True))  # the names
    assert two["set-cookie"] == "session=bob-s3cret"
    from runner.connectors import http
    assert not any("s3cret" in v for v in http._VALUES)  # a run's cookie is kept by nobody


def test_a_step_result_has_no_dict() -> None:
    from runner.results import StepResult

    assert not hasattr(StepResult("a", "a", "call", "x.y"), "__dict__")  # slots

"""The fault matrix: for each fault the simulator can inject, a run over real HTTP either
succeeds without a duplicate side effect or fails with a clear message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, run_playbook

from runner.sandbox import Sandbox

PLAYBOOK = ROOT / "tests" / "playbooks" / "automatos" / "short-timeouts.yaml"
FAST = {"schedule_seconds": 0.1, "run_seconds": 0.2}

# fault settings -> (expected status, text the error must carry, or None on success)
MATRIX: dict[str, tuple[dict[str, Any], str, str | None]] = {
    "503 on every read, half the time": (
        {"error_5xx": 0.5, "seed": 7, "only": {"auth", "get_machine", "distribution_status"}},
        "passed", None),
    # a 503 does not prove a create was not applied (a gateway may answer it after the vendor
    # acted): not retried
    "503 once on the create": (
        {"error_5xx": 1.0, "only": {"create_distribution"}, "count": 1}, "failed", "HTTP 503"),
    "502 once on the create": (
        {"error_5xx": 1.0, "status_5xx": 502, "only": {"create_distribution"}, "count": 1},
        "failed", "HTTP 502"),
    "429 with Retry-After, twice": (
        {"rate_limit": 1.0, "retry_after": 1, "count": 2}, "passed", None),
    "latency past the read timeout, once on a read": (
        {"latency": 0.6, "only": {"get_machine"}, "count": 1}, "passed", None),
    "latency past the read timeout on the create": (
        {"latency": 0.6, "only": {"create_distribution"}, "count": 1}, "failed",
        "no answer from"),
    "connection dropped before a read acted": (
        {"drop_before": 1.0, "only": {"get_machine"}, "count": 2}, "passed", None),
    "connection dropped after the create acted": (
        {"drop_after": 1.0, "only": {"create_distribution"}, "count": 1}, "failed",
        "connection was dropped"),
    "truncated body on a poll": (
        {"truncate": 1.0, "only": {"distribution_status"}, "count": 1}, "passed", None),
    "invalid body on the machine lookup": (
        {"invalid_body": 1.0, "only": {"get_machine"}, "count": 1}, "failed",
        "extract machine_id"),
    "a gzip that is not gzip on a poll": (
        {"bad_gzip": 1.0, "only": {"distribution_status"}, "count": 1}, "passed", None),
    "a gzip that is not gzip, every time": (
        {"bad_gzip": 1.0, "only": {"get_machine"}}, "failed", "gave up after 3 attempts"),
}


@pytest.mark.parametrize("name", list(MATRIX))
def test_fault(name: str, tmp_path: Path) -> None:
    faults, status, text = MATRIX[name]
    box = Sandbox({"automatos": {**FAST, "faults": faults}})
    out = run_playbook(PLAYBOOK, tmp_path, sandbox=box)
    box.stop()
    sim = box.simulators["automatos"]
    assert out.result.status == status, out.console
    assert len(sim.distributions) <= 1  # never a duplicate side effect
    if text is not None:
        assert text in (out.result.error or ""), out.result.error
        assert "Traceback" not in out.console
    else:
        assert len(sim.distributions) == 1


def test_retry_after_is_honoured(tmp_path: Path) -> None:
    box = Sandbox({"automatos": {**FAST, "faults": {"rate_limit": 1.0, "retry_after": 1,
                                                    "count": 1, "only": {"get_machine"}}}})
    out = run_playbook(PLAYBOOK, tmp_path, sandbox=box)
    box.stop()
    machine = out.result.steps[0]
    assert machine.duration_ms >= 900  # waited the second the server asked for
    assert machine.exchanges[-1].response is not None
    assert machine.exchanges[-1].response["attempts"] == 2


def test_a_step_can_turn_retries_off(tmp_path: Path) -> None:
    pb = tmp_path / "no-retry.yaml"
    pb.write_text(PLAYBOOK.read_text().replace(
        "    call: automatos.get_machine\n", "    call: automatos.get_machine\n    retry: false\n"))
    box = Sandbox({"automatos": {**FAST, "faults": {"error_5xx": 1.0, "only": {"get_machine"},
                                                    "count": 1}}})
    out = run_playbook(pb, tmp_path, sandbox=box)
    box.stop()
    assert out.result.status == "failed" and "HTTP 503" in (out.result.error or "")

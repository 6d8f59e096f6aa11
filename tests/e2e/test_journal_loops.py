"""The journal of a loop: safe iterations share the loop's entry, unsafe ones keep their own,
so a resumed loop re-runs what is safe to repeat and never re-sends a create that happened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner import api
from runner.journal import ResumeState
from runner.store import Store

PLAYBOOK = """\
name: look up, then create in a loop
inputs:
  second: {type: string, default: ""}
connectors:
  automatos: {use: automatos}
steps:
  - auth: automatos
  - id: lookups
    loop: ["NTB2", "NTB2", "NTB2"]
    call: automatos.get_machine
    with: {hostname: "{{ item }}"}
  - id: creates
    loop: "{{ ['7zip.exe', inputs.second] }}"
    call: automatos.create_distribution
    with: {machineId: 456DEF, package: "{{ item }}"}
"""


@pytest.fixture()
def sim() -> Iterator[AutomatosSimulator]:
    with AutomatosSimulator(schedule_seconds=0.1, run_seconds=0.1) as s:
        yield s


def test_a_resumed_loop_does_not_resend_its_unsafe_iterations(
        tmp_path: Path, sim: AutomatosSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOMATOS_KEY", sim.automatos_key)
    pb = tmp_path / "loops.yaml"
    pb.write_text(PLAYBOOK)
    env = tmp_path / "lab.yaml"
    env.write_text(f"connectors:\n  automatos:\n    base_url: {sim.url}\n"
                   f"    automatos_id: '{sim.automatos_id}'\n"
                   "    automatos_key: {secret: AUTOMATOS_KEY}\n")
    store = Store(str(tmp_path / "runs.db"))
    try:
        first = api.run(pb, env=str(env), quiet=True, store=store)
        assert first.status == "failed"  # the second create is refused: an empty package
        assert sim.calls["create_distribution"] == 2
        events = [(e.step_key, e.event) for e in store.entries(first.run_id)]
        # safe iterations: the loop's own entry only
        assert ("steps/1", "finished") in events
        assert not [k for k, _ in events if k.startswith("steps/1[")]
        # unsafe iterations: sent, answered, finished each
        assert [(k, e) for k, e in events if k == "steps/2[0]"] == [
            ("steps/2[0]", "sent"), ("steps/2[0]", "answered"), ("steps/2[0]", "finished")]
        assert ("steps/2[1]", "sent") in events

        again = api.run(pb, env=str(env), quiet=True, store=store, run_id=first.run_id,
                        inputs={"second": "notepad.exe"},
                        resume=ResumeState.load(store, first.run_id))
        assert again.status == "passed", again.error
        # the first create is restored from the journal, the refused one sent again
        assert sim.calls["create_distribution"] == 3
        assert sorted(d["package"] for d in sim.distributions) == \
            ["7zip.exe", "notepad.exe"]
        creates = next(s for s in again.steps if s.step_id == "creates")
        assert [it.resumed for it in creates.iterations] == [True, False]
        # the lookups loop had finished: restored whole, nothing re-sent
        assert sim.calls["get_machine"] == 3
    finally:
        store.close()

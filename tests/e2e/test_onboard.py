"""The multi-vendor runbook `make demo` runs: five vendors, includes, a loop over packages."""

from __future__ import annotations

from pathlib import Path

from helpers import FAST, PLAYBOOKS, run_playbook

from runner.sandbox import Sandbox

ONBOARD = PLAYBOOKS / "onboard-employee.yaml"


def test_onboard_employee_across_five_vendors_and_again(tmp_path: Path) -> None:
    box = Sandbox({k: dict(v) for k, v in FAST.items()})
    try:
        first = run_playbook(ONBOARD, tmp_path, sandbox=box)
        assert first.result.status == "passed", first.console
        sims = box.simulators
        assert set(sims) == {"nddprint", "automatos", "mor", "era", "alvaria"}
        out = first.result.outputs
        assert out["badge_codes"] == ["0042"]  # a leading zero kept
        assert len(out["distributions"]) == 3
        assert sorted(d["package"] for d in sims["automatos"].distributions) == \
            ["7zip.exe", "teams.exe", "vscode.exe"]
        assert sims["mor"].calls["device_create"] == 1
        assert sims["era"].calls["create"] == 1
        assert sims["alvaria"].calls["execute"] == 1
        for name in ("badge", "software", "phone", "chat", "welcome", "summary"):
            assert f"PASS {name}" in first.console

        # the same employee again: the badge and the channel are found, not added twice
        second = run_playbook(ONBOARD, tmp_path, sandbox=box)
        assert second.result.status == "passed", second.console
        assert sims["nddprint"].calls["add_card_code"] == 1
        assert sims["era"].calls["create"] == 1
        assert second.result.outputs["chat_channel"] == out["chat_channel"]
        secrets = [v for sim in sims.values() for v in sim.secret_values()]
        for value in secrets:
            assert value not in first.outputs() + second.outputs()
    finally:
        box.stop()


def test_a_failed_welcome_deletes_the_chat_channel_the_run_created(tmp_path: Path) -> None:
    """The chat include's create has an undo: when the Alvaria part (a later step of the
    including playbook) fails, the channel this run created is deleted again; the badge,
    software and phone have none (their vendors document no removal) and stay."""
    options = {k: dict(v) for k, v in FAST.items()}
    options["alvaria"]["faults"] = {"error_5xx": 1.0, "status_5xx": 503, "only": {"execute"}}
    box = Sandbox(options)
    try:
        out = run_playbook(ONBOARD, tmp_path, sandbox=box)
        assert out.result.status == "failed"
        assert out.result.failed_step == "step 'welcome'"
        era = box.simulators["era"]
        assert era.calls["create"] == 1 and era.calls["delete"] == 1
        assert not any(c["code"] == "onboard-asmith" for c in era.channels.values())
        assert out.result.undo_status == "undone"
        assert [s.step_id for s in out.result.undone] == ["delete_created"]
        assert "undo: 1 completed step to undo" in out.console
        assert box.simulators["mor"].calls["device_create"] == 1  # no undo: kept
    finally:
        box.stop()

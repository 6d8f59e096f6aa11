"""The Automatos runbooks end to end: real HTTP to the simulator, no mocks."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from helpers import PLAYBOOKS, cli, run_playbook

from runner.errors import EXIT_FAILED, EXIT_OK
from runner.sandbox import Sandbox

DISTRIBUTE = PLAYBOOKS / "automatos" / "distribute-package.yaml"
BY_HOSTNAME = PLAYBOOKS / "automatos" / "distribute-by-hostname.yaml"


def test_distribute_package_happy_path(tmp_path: Path) -> None:
    out = run_playbook(DISTRIBUTE, tmp_path, {"hostname": "NTB1", "department": "Comercial"})
    assert out.result.status == "passed", out.console
    sim = out.sandbox.simulators["automatos"]
    assert out.result.outputs["machine"] == "ABC987"  # the Comercial machine of NTB1
    assert out.result.outputs["job"] == sim.distributions[0]["jobName"]
    assert len(sim.distributions) == 1 and sim.calls["create_distribution"] == 1
    assert sim.calls["auth"] == 1  # the token is reused by every call
    assert sim.distributions[0]["package"] == "7zip.exe"
    # the console shows each step, what it called, the poll's progress and the outputs
    for text in ("PASS machine", "automatos.get_machine", "machine_id = ABC987", "attempt 1",
                 "delivered", "outputs:", "PASSED in"):
        assert text in out.console
    report = json.loads(out.report_json)
    assert report["status"] == "passed"
    wait = next(s for s in report["steps"] if s["id"] == "wait")
    assert wait["attempts"] >= 2 and wait["exchanges"][-1]["response"]["status"] == 200
    assert 'failures="0"' in out.junit and 'tests="5"' in out.junit


def test_expired_job_fails_clearly(tmp_path: Path) -> None:
    out = run_playbook(DISTRIBUTE, tmp_path, {"hostname": "OFFLINE1"},
                       sandbox=Sandbox({"automatos": {"offline_expire_seconds": 0.3}}))
    assert out.result.status == "failed"
    assert out.result.failed_step == "step 'wait'"
    assert "Expired Job" in out.result.error
    assert "FAILED at step 'wait'" in out.console
    assert 'failures="1"' in out.junit


def test_ambiguous_hostname_fails_before_creating(tmp_path: Path) -> None:
    out = run_playbook(BY_HOSTNAME, tmp_path, {"hostname": "NTB1"})
    assert out.result.status == "failed"
    assert "matched 2 values ('123ABC', 'ABC987'), expected one" in out.result.error
    assert out.sandbox.simulators["automatos"].calls["create_distribution"] == 0


def test_unknown_hostname_names_the_vendor_message(tmp_path: Path) -> None:
    out = run_playbook(DISTRIBUTE, tmp_path, {"hostname": "NOPE"})
    assert out.result.status == "failed"
    assert "machine not found" in out.result.error


def test_failed_delivery_is_a_clear_failure(tmp_path: Path) -> None:
    out = run_playbook(DISTRIBUTE, tmp_path, {"hostname": "NTB2", "package": "fail-setup.exe"})
    assert out.result.status == "failed"
    assert "delivered not in" in out.result.error  # the fail-if for unknown states


def test_expired_token_is_renewed_once_and_the_call_repeated(tmp_path: Path) -> None:
    box = Sandbox({"automatos": {"schedule_seconds": 0.6, "run_seconds": 0.6}})
    try:
        def expire_when_polling() -> None:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                sim = box.simulators.get("automatos")
                if sim is not None and sim.calls["distribution_status"] >= 1:
                    sim.expire_tokens()
                    return
                time.sleep(0.01)

        t = threading.Thread(target=expire_when_polling)
        t.start()
        out = run_playbook(DISTRIBUTE, tmp_path, {"hostname": "NTB2"}, sandbox=box)
        t.join()
        sim = box.simulators["automatos"]
        assert out.result.status == "passed", out.console
        assert sim.calls["auth"] == 2  # one login, one renewal after the 403
        assert sim.calls["create_distribution"] == 1
    finally:
        box.stop()


def test_no_secret_in_any_output(tmp_path: Path) -> None:
    out = run_playbook(DISTRIBUTE, tmp_path, {"hostname": "NTB1"})
    secrets = out.sandbox.simulators["automatos"].secret_values()
    assert len(secrets) >= 2  # the key and the token issued at run time
    text = out.outputs()
    for value in secrets:
        assert value not in text
    assert "***" in out.report_json  # the key and the token were there, redacted


def test_cli_run_exit_codes(tmp_path: Path) -> None:
    ok = cli("run", str(DISTRIBUTE), "-i", "hostname=NTB2", "--report-json",
             str(tmp_path / "r.json"), "--junit", str(tmp_path / "j.xml"))
    assert ok.returncode == EXIT_OK, ok.stdout + ok.stderr
    assert "PASSED" in ok.stdout
    assert json.loads((tmp_path / "r.json").read_text())["status"] == "passed"
    failed = cli("run", str(BY_HOSTNAME), "-i", "hostname=NTB1")
    assert failed.returncode == EXIT_FAILED
    assert "expected one" in failed.stdout
    assert "Traceback" not in failed.stdout + failed.stderr


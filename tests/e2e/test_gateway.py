"""A gateway in front of the vendor answers 504 (or 503) after the vendor acted on a create: the
outcome is unknown, so the create is neither retried nor re-sent by `runner resume`. A real
gateway process (tests/gateway.py) stands between runner and the Automatos simulator; the
creates are counted on the simulator's side."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import PLAYBOOKS, ROOT, cli
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner.store import Store

DISTRIBUTE = PLAYBOOKS / "automatos" / "distribute-package.yaml"
GATEWAY = ROOT / "tests" / "gateway.py"
CREATE_PATH = AutomatosSimulator.prefix + "/express/distribution"


@pytest.fixture()
def sim() -> Iterator[AutomatosSimulator]:
    with AutomatosSimulator(schedule_seconds=0.2, run_seconds=0.3) as s:
        yield s


def start_gateway(sim: AutomatosSimulator, status: int) -> tuple[subprocess.Popen[str], str]:
    upstream = sim.url.removesuffix(sim.prefix)
    proc = subprocess.Popen([sys.executable, str(GATEWAY), upstream, "--fail", str(status),
                             "--path", CREATE_PATH], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("listening on "), line
    return proc, f"http://127.0.0.1:{int(line.split()[-1])}{sim.prefix}"


@pytest.fixture(params=[504])
def gateway(request: pytest.FixtureRequest, sim: AutomatosSimulator) -> Iterator[str]:
    proc, url = start_gateway(sim, request.param)
    try:
        yield url
    finally:
        proc.kill()
        proc.wait(timeout=10)


def env_through(tmp_path: Path, sim: AutomatosSimulator, url: str) -> Path:
    env = tmp_path / "through-gateway.yaml"
    env.write_text(f"""\
connectors:
  automatos:
    base_url: {url}
    automatos_id: "{sim.automatos_id}"
    automatos_key: {{secret: AUTOMATOS_KEY}}
""")
    return env


def only_run(store: Path) -> str:
    rows = Store(str(store)).find_runs()
    assert len(rows) == 1
    return str(rows[0]["run_id"])


def test_a_504_after_the_create_is_not_resent_by_resume(tmp_path: Path, sim: AutomatosSimulator,
                                                        gateway: str) -> None:
    store = tmp_path / "runs.db"
    env = env_through(tmp_path, sim, gateway)
    secrets = {"AUTOMATOS_KEY": sim.automatos_key}
    first = cli("run", str(DISTRIBUTE), "--env", str(env), "-i", "hostname=NTB2",
                "--store", str(store), env=secrets)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "HTTP 504" in first.stdout
    assert "does not prove the request was not applied" in first.stdout
    assert sim.calls["create_distribution"] == 1  # not retried: the vendor acted behind it
    assert len(sim.distributions) == 1
    run_id = only_run(store)
    journal = json.loads(cli("show", run_id, "--store", str(store), "--json").stdout)["journal"]
    answered = [e for e in journal if e["step_key"] == "steps/2" and e["event"] == "answered"]
    assert [(e["status"], e["data"]["status"]) for e in answered] == [("unknown", 504)]

    again = cli("resume", run_id, "--store", str(store), env=secrets)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "outcome is unknown (it was answered HTTP 504, which does not prove it was not " \
        "applied)" in again.stdout
    assert "Traceback" not in again.stdout + again.stderr
    assert sim.calls["create_distribution"] == 1  # counted by the vendor: exactly once
    assert len(sim.distributions) == 1


@pytest.mark.parametrize("gateway", [503], indirect=True)
def test_a_503_from_a_gateway_is_not_retried_for_a_create(tmp_path: Path,
                                                          sim: AutomatosSimulator,
                                                          gateway: str) -> None:
    env = env_through(tmp_path, sim, gateway)
    first = cli("run", str(DISTRIBUTE), "--env", str(env), "-i", "hostname=NTB2",
                "--store", str(tmp_path / "runs.db"), env={"AUTOMATOS_KEY": sim.automatos_key})
    assert first.returncode == 1, first.stdout + first.stderr
    assert "HTTP 503" in first.stdout
    assert sim.calls["create_distribution"] == 1
    assert sim.calls["get_machine"] == 1 and sim.calls["auth"] == 1  # the rest went through


CHECKED = """\
name: A create with a resume-check
connectors:
  automatos: {use: automatos}
steps:
  - id: machine
    call: automatos.get_machine
    with: {hostname: NTB2}
    extract: {machine_id: "$.data.machines[0].machineId"}
  - id: job
    call: automatos.create_distribution
    with: {machineId: "{{ machine_id }}", package: 7zip.exe}
    extract: {job_name: $.data.jobName}
    resume-check:
      call: CHECK
      extract: {job_name: "$.data.machines[0].machineId"}
  - assert: ["job_name is defined"]
outputs:
  job: "{{ job_name }}"
"""


def checked_run(tmp_path: Path, sim: AutomatosSimulator, gateway: str,
                check: str) -> tuple[Path, str]:
    """A run whose create got the gateway's 504 (applied, unknown to runner), with a
    resume-check ``check``; the store and the run id."""
    pb = tmp_path / "checked.yaml"
    pb.write_text(CHECKED.replace("CHECK", check))
    store = tmp_path / "runs.db"
    env = env_through(tmp_path, sim, gateway)
    first = cli("run", str(pb), "--env", str(env), "--store", str(store),
                env={"AUTOMATOS_KEY": sim.automatos_key})
    assert first.returncode == 1, first.stdout + first.stderr
    assert sim.calls["create_distribution"] == 1
    return store, only_run(store)


def test_a_resume_check_answered_by_a_5xx_does_not_resend(tmp_path: Path,
                                                          sim: AutomatosSimulator,
                                                          gateway: str) -> None:
    from runner.simulator_faults import Faults

    store, run_id = checked_run(tmp_path, sim, gateway,
                                "automatos.get_machine\n      with: {hostname: NTB2}")
    sim.faults = Faults(error_5xx=1.0, status_5xx=502, only={"get_machine"})
    again = cli("resume", run_id, "--store", str(store), env={"AUTOMATOS_KEY": sim.automatos_key})
    assert again.returncode == 1, again.stdout + again.stderr
    assert "its resume-check automatos.get_machine was answered HTTP 502, which does not tell: " \
        "it is not sent again" in again.stdout
    assert sim.calls["create_distribution"] == 1
    assert sim.calls["get_machine"] == 1  # the first run's: the 502s are not counted
    sim.faults = Faults()  # the vendor answers again: the check finds the job done
    done = cli("resume", run_id, "--store", str(store), env={"AUTOMATOS_KEY": sim.automatos_key})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resume-check: automatos.get_machine found it done" in done.stdout
    assert sim.calls["create_distribution"] == 1


def test_a_resume_check_that_proves_not_done_sends_the_step(tmp_path: Path,
                                                            sim: AutomatosSimulator,
                                                            gateway: str) -> None:
    store, run_id = checked_run(tmp_path, sim, gateway,
                                "automatos.distribution_status\n      with: {jobName: NOPE}")
    again = cli("resume", run_id, "--store", str(store), env={"AUTOMATOS_KEY": sim.automatos_key})
    # "Job not found" (HTTP 400) proves it: the create is sent (and the gateway 504s it again)
    assert sim.calls["distribution_status"] == 1
    assert sim.calls["create_distribution"] == 2
    assert again.returncode == 1 and "HTTP 504" in again.stdout, again.stdout

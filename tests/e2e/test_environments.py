"""Environment files, secrets from the environment and a secrets file, and leak checks over
every output of a run and of plan, through the real CLI and real HTTP."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ROOT, cli
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner.errors import EXIT_INVALID, EXIT_OK

PLAYBOOK = ROOT / "tests" / "playbooks" / "automatos" / "domain-password.yaml"
USER, PASSWORD = "svc-deploy", "Pa55w0rd!Very+Secret/Value"


@pytest.fixture()
def sim() -> Iterator[AutomatosSimulator]:
    with AutomatosSimulator(schedule_seconds=0.1, run_seconds=0.1) as s:
        yield s


def write_env(tmp_path: Path, sim: AutomatosSimulator, *, literal_key: bool = False) -> Path:
    key = json.dumps(sim.automatos_key) if literal_key else "{secret: AUTOMATOS_KEY}"
    (tmp_path / "secrets.yaml").write_text(f"DOMAIN_PASSWORD: '{PASSWORD}'\n")
    env = tmp_path / "staging.yaml"
    env.write_text(f"""\
description: a test environment pointing at a simulator
secrets_file: secrets.yaml
secrets:
  domain_user: {{secret: DOMAIN_USER}}
  domain_password: {{secret: DOMAIN_PASSWORD}}
connectors:
  automatos:
    base_url: {sim.url}
    automatos_id: "{sim.automatos_id}"
    automatos_key: {key}
""")
    return env


def derived(values: list[str]) -> list[str]:
    pw_b64 = base64.b64encode(PASSWORD.encode()).decode()
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return [*values, USER.upper(), pw_b64[:12], basic, PASSWORD[2:]]


def test_run_with_env_file_leaks_nothing(tmp_path: Path, sim: AutomatosSimulator) -> None:
    env = write_env(tmp_path, sim)
    proc = cli("run", str(PLAYBOOK), "--env", str(env), "--report-json", str(tmp_path / "r.json"),
               "--junit", str(tmp_path / "j.xml"),
               env={"AUTOMATOS_KEY": sim.automatos_key, "DOMAIN_USER": USER})
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    # the secrets really reached the vendor ...
    sent = sim.distributions[0]
    assert sent["password"] == PASSWORD and sent["user"] == USER.upper()
    # ... and appear in no output, nor do the token or values derived from the secrets
    outputs = proc.stdout + proc.stderr + (tmp_path / "r.json").read_text() + \
        (tmp_path / "j.xml").read_text()
    for value in derived([USER, PASSWORD, *sim.secret_values()]):
        assert value not in outputs, value
    assert "***" in outputs


def test_plan_sends_nothing_and_leaks_nothing(tmp_path: Path, sim: AutomatosSimulator) -> None:
    env = write_env(tmp_path, sim)
    proc = cli("plan", str(PLAYBOOK), "--env", str(env),
               env={"AUTOMATOS_KEY": sim.automatos_key, "DOMAIN_USER": USER})
    assert proc.returncode == EXIT_OK, proc.stderr
    assert sum(sim.calls.values()) == 0  # nothing was sent
    assert "POST /api/distribution/api/express/distribution" in proc.stdout
    assert "<machine_id>" in proc.stdout  # known only at run time
    for value in derived([USER, PASSWORD, sim.automatos_key]):
        assert value not in proc.stdout


def test_secret_written_in_env_file_is_refused(tmp_path: Path, sim: AutomatosSimulator) -> None:
    env = write_env(tmp_path, sim, literal_key=True)
    proc = cli("run", str(PLAYBOOK), "--env", str(env), env={"DOMAIN_USER": USER})
    assert proc.returncode == EXIT_INVALID
    assert "'automatos_key' is a secret and must not be written" in proc.stderr
    assert "staging.yaml:" in proc.stderr
    assert sim.automatos_key not in proc.stderr + proc.stdout


def test_missing_secret_says_what_to_export(tmp_path: Path, sim: AutomatosSimulator) -> None:
    env = write_env(tmp_path, sim)
    proc = cli("run", str(PLAYBOOK), "--env", str(env), env={"AUTOMATOS_KEY": "x" * 44})
    assert proc.returncode == EXIT_INVALID
    assert "secret DOMAIN_USER" in proc.stderr and "export DOMAIN_USER=" in proc.stderr


def test_wrong_credentials_fail_with_the_vendor_message(tmp_path: Path,
                                                        sim: AutomatosSimulator) -> None:
    env = write_env(tmp_path, sim)
    proc = cli("run", str(PLAYBOOK), "--env", str(env),
               env={"AUTOMATOS_KEY": "wrong-key-" + "A" * 34, "DOMAIN_USER": USER})
    assert proc.returncode == 1
    assert "invalid credential" in proc.stdout
    assert "wrong-key-" not in proc.stdout


def test_unknown_environment_is_exit_2() -> None:
    proc = cli("run", str(PLAYBOOK), "--env", "nowhere")
    assert proc.returncode == EXIT_INVALID
    assert "environment 'nowhere' not found" in proc.stderr

"""``runner sandbox`` as another tool meets it: a real process that prints its URLs and the
credentials it made up, writes an environment file for ``runner run --env FILE`` in another
process, takes simulator options (``--set``, ``--options``) and stops cleanly on SIGTERM."""

from __future__ import annotations

import re
import shlex
import signal
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml
from helpers import PLAYBOOKS, ROOT, RUNNER, cli

from runner.errors import EXIT_INVALID


@dataclass
class Running:
    proc: subprocess.Popen[str]
    printed: str
    env_file: Path
    dotenv: Path

    def url(self, vendor: str) -> str:
        found = re.search(rf"^  {vendor}\s+(http://127\.0\.0\.1:\d+\S*)$", self.printed, re.M)
        assert found, self.printed
        return found.group(1)

    def curl(self, vendor: str) -> list[str]:
        """The printed curl example of ``vendor``'s simulator, as its words."""
        url = self.url(vendor)
        line = next((ln for ln in self.printed.splitlines()
                     if ln.strip().startswith("curl ") and url in ln), None)
        assert line, self.printed
        return shlex.split(line)

    def stop(self) -> tuple[str, str]:
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=30)
        return out, err


def start(tmp_path: Path, *args: str) -> Running:
    """Start ``runner sandbox`` and read what it prints up to its ``ready`` line."""
    env_file, dotenv = tmp_path / "sbx.yaml", tmp_path / "sbx.env"
    proc = subprocess.Popen([str(RUNNER), "sandbox", "--write-env", str(env_file),
                             "--write-dotenv", str(dotenv), *args], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    printed = ""
    for line in proc.stdout:  # ends at EOF if the process dies first
        printed += line
        if line.strip() == "ready":
            break
    if proc.poll() is not None and "ready" not in printed:
        raise AssertionError(printed + (proc.stderr.read() if proc.stderr else ""))
    return Running(proc, printed, env_file, dotenv)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start(tmp_path_factory.mktemp("sandbox"), "-c", "era", "-c", "automatos",
                    "--set", "automatos.fleet_size=3", "--set", "automatos.run_seconds=0.2",
                    "--set", "automatos.schedule_seconds=0.1")
    yield running
    if running.proc.poll() is None:
        running.stop()


def test_the_printed_credentials_work_as_curl_would_send_them(sandbox: Running) -> None:
    words = sandbox.curl("era")  # curl -H 'Authorization: Bearer ...' URL
    assert words[:2] == ["curl", "-H"]
    name, _, value = words[2].partition(": ")
    assert name == "Authorization" and value.startswith("Bearer ")
    assert value.split()[1] in sandbox.printed.split("api_token: ")[1]  # printed as a setting
    answer = requests.get(words[3], headers={name: value}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert any(c["code"] == "ABCDE" for c in answer.json())
    # without them: what curl got before the credentials were shown
    assert requests.get(words[3], timeout=10).status_code == 401


def test_the_automatos_login_example_gives_a_token(sandbox: Running) -> None:
    words = sandbox.curl("automatos")  # curl -H 'Content-Type: ...' -d '{...}' URL/auth
    answer = requests.post(words[-1], data=words[words.index("-d") + 1],
                           headers={"Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 200 and answer.json()["status"] is True, answer.text


def test_an_option_given_with_set_takes_effect(sandbox: Running) -> None:
    words = sandbox.curl("automatos")
    login = requests.post(words[-1], data=words[words.index("-d") + 1], timeout=10)
    token = login.json()["data"]["token"]
    machines = requests.get(sandbox.url("automatos") + "/machine",
                            params={"hostname": "FLEET00003"},
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert machines.json()["data"]["machines"] == [
        {"machineId": "F00003", "hostname": "FLEET00003", "department": "DEV"}]
    none = requests.get(sandbox.url("automatos") + "/machine", params={"hostname": "FLEET00004"},
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert none.json()["error"] == "machine not found"  # three of them, as --set said


def test_the_environment_file_holds_references_and_the_secrets_file_the_values(
        sandbox: Running) -> None:
    env = yaml.safe_load(sandbox.env_file.read_text())
    secrets_file = sandbox.env_file.with_name("sbx.secrets.yaml")
    assert env["secrets_file"] == secrets_file.name
    assert env["connectors"]["era"]["api_token"] == {"secret": "RUNNER_SANDBOX_ERA_API_TOKEN"}
    assert env["connectors"]["automatos"]["automatos_key"] == {
        "secret": "RUNNER_SANDBOX_AUTOMATOS_KEY"}
    assert env["connectors"]["era"]["base_url"] == sandbox.url("era")
    values = yaml.safe_load(secrets_file.read_text())
    assert values["RUNNER_SANDBOX_ERA_API_TOKEN"] in sandbox.printed
    assert values["RUNNER_SANDBOX_ERA_API_TOKEN"] not in sandbox.env_file.read_text()
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(sandbox.dotenv.stat().st_mode) == 0o600
    dotenv = dict(ln.split("=", 1) for ln in sandbox.dotenv.read_text().splitlines()
                  if not ln.startswith("#"))
    # the dotenv's names are not the secrets': sourced for an earlier session, they shadow none
    assert dotenv["SANDBOX_ERA_API_TOKEN"] == values["RUNNER_SANDBOX_ERA_API_TOKEN"]
    assert dotenv["SANDBOX_ERA_BASE_URL"] == sandbox.url("era")


def test_runner_run_in_another_process_passes_against_it(sandbox: Running,
                                                         tmp_path: Path) -> None:
    token = yaml.safe_load(sandbox.env_file.with_name("sbx.secrets.yaml").read_text())[
        "RUNNER_SANDBOX_ERA_API_TOKEN"]
    stale = {"SANDBOX_ERA_API_TOKEN": "from-an-earlier-session", "ERA_API_TOKEN": "production"}
    era = cli("run", str(PLAYBOOKS / "era" / "create-channel.yaml"), "--env",
              str(sandbox.env_file), "-i", "code=SBX1", "-i", "url=http://example.test/hook",
              "--store", str(tmp_path / "runs.db"), env=stale)
    assert era.returncode == 0, era.stdout + era.stderr
    assert token not in era.stdout + era.stderr  # the file's secrets are masked as any
    # it went to the sandbox: the channel is there now
    listed = requests.get(sandbox.url("era") + "/rest/v1/service/integration_points",
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert "SBX1" in [c["code"] for c in listed.json()]
    auto = cli("run", str(PLAYBOOKS / "automatos" / "distribute-package.yaml"), "--env",
               str(sandbox.env_file), "-i", "hostname=FLEET00002", "-i", "package=7zip.exe",
               "--store", str(tmp_path / "runs.db"))
    assert auto.returncode == 0, auto.stdout + auto.stderr


def test_an_options_file_sets_faults(tmp_path: Path) -> None:
    options = tmp_path / "options.yaml"
    options.write_text("era:\n  faults: {error_5xx: 1.0, only: [list]}\n")
    running = start(tmp_path, "-c", "era", "--options", str(options))
    try:
        words = running.curl("era")
        name, _, value = words[2].partition(": ")
        assert requests.get(words[3], headers={name: value}, timeout=10).status_code == 503
    finally:
        running.stop()


@pytest.mark.parametrize(("args", "said"), [
    (["--set", "automatos.run_secs=3"],
     "simulator 'automatos' has no option 'run_secs' (did you mean 'run_seconds'?)"),
    (["--set", "automatoz.run_seconds=3"],
     "no simulator 'automatoz' in this sandbox (did you mean 'automatos'?)"),
    (["--set", "automatos.run_seconds=fast"],
     "--set automatos.run_seconds=fast: automatos.run_seconds must be a number, got 'fast'"),
    (["--set", "automatos.faults.error5xx=1"], "(did you mean 'error_5xx'?)"),
    (["--set", "run_seconds=3"], "--set run_seconds=3: expected vendor.option=value"),
    (["-c", "era", "--set", "automatos.run_seconds=3"], "no simulator 'automatos'"),
])
def test_a_bad_option_is_refused_before_anything_starts(args: list[str], said: str,
                                                        tmp_path: Path) -> None:
    done = cli("sandbox", "--write-env", str(tmp_path / "e.yaml"), *args, cwd=tmp_path)
    assert done.returncode == EXIT_INVALID, done.stdout + done.stderr
    assert said in done.stderr, done.stderr
    assert "hint:" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "e.yaml").exists()
    if "has no option" in said:  # the valid ones are listed
        assert "schedule_seconds" in done.stderr and "fleet_size" in done.stderr


def test_an_options_file_error_names_its_line(tmp_path: Path) -> None:
    options = tmp_path / "options.yaml"
    options.write_text("automatos:\n  run_seconds: 1\n  fleet: 3\n")
    done = cli("sandbox", "--options", str(options), cwd=tmp_path)
    assert done.returncode == EXIT_INVALID
    assert re.search(re.escape(str(options)) + r":3:\d+: simulator 'automatos' has no option "
                     "'fleet' \\(did you mean 'fleet_size'\\?\\)", done.stderr), done.stderr


def test_sigterm_stops_it_cleanly(tmp_path: Path) -> None:
    running = start(tmp_path, "-c", "era")
    url = running.url("era")
    out, err = running.stop()
    assert running.proc.returncode == 0, err
    assert out.strip().endswith("sandbox stopped") and "Traceback" not in err
    with pytest.raises(requests.ConnectionError):  # its port is closed
        requests.get(url, timeout=5)
    assert running.env_file.exists()  # kept for the next look; overwritten by the next start


def test_the_environment_from_another_session_is_refused_with_no_traceback(
        tmp_path: Path) -> None:
    running = start(tmp_path, "-c", "era")
    running.stop()
    done = cli("run", str(ROOT / "playbooks" / "era" / "create-channel.yaml"), "--env",
               str(running.env_file), "-i", "code=X", "-i", "url=http://example.test/",
               "--store", str(tmp_path / "runs.db"))
    assert done.returncode == 1, done.stdout + done.stderr  # connection refused: a failed step
    assert "Traceback" not in done.stdout + done.stderr
    assert "cannot connect" in done.stdout, done.stdout

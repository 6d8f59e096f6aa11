"""docs/writing-a-connector.md, proven: a connector packaged on its own (tests/thirdparty/
runner-connector-echo) is installed by pip from its pyproject.toml into a temporary directory,
and the ``runner`` command finds it through the ``runner.connectors`` entry point.

The project's .venv is left alone: the package goes to a ``--target`` directory that only the
subprocesses see (PYTHONPATH).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from pathlib import Path

import pytest
from helpers import ROOT, cli, pip_install_target

THIRDPARTY = ROOT / "tests" / "thirdparty"
PACKAGE = THIRDPARTY / "runner-connector-echo"
PLAYBOOK = THIRDPARTY / "echo-playbook.yaml"



@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = pip_install_target(PACKAGE, tmp_path_factory.mktemp("thirdparty"))
    assert (target / "runner_connector_echo" / "connector.yaml").is_file()
    assert list(target.glob("runner_connector_echo-*.dist-info/entry_points.txt"))
    return target


def _with(site: Path) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path}


def test_runner_connectors_lists_it(site: Path) -> None:
    proc = cli("connectors", env=_with(site))
    assert proc.returncode == 0, proc.stderr
    assert "echo  (Echo message API (example third-party connector)) · auth: api_key" \
        in proc.stdout
    assert "echo.post_message" in proc.stdout and "[not safe to repeat]" in proc.stdout
    assert "echo.get_message" in proc.stdout
    assert "automatos.get_machine" in proc.stdout  # the built-in ones are still there


def test_runner_validate_knows_its_operations(site: Path, tmp_path: Path) -> None:
    proc = cli("validate", str(PLAYBOOK), env=_with(site))
    assert proc.returncode == 0, proc.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(PLAYBOOK.read_text().replace("echo.get_message", "echo.get_mesage"))
    proc = cli("validate", str(bad), env=_with(site))
    assert proc.returncode == 2
    assert "unknown operation 'echo.get_mesage'" in proc.stderr
    assert "did you mean 'get_message'?" in proc.stderr


def test_runner_run_against_its_simulator(site: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    proc = cli("run", str(PLAYBOOK), "-i", "text=hi there", "--report-json", str(report),
               env=_with(site))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS wait" in proc.stdout and "2 attempts" in proc.stdout
    assert "PASSED in" in proc.stdout
    text = report.read_text()
    assert '"X-Echo-Signature": "***"' in text  # the hook's signature: derived from the key
    assert '"X-Echo-Key": "***"' in text


def test_without_it_on_the_path_runner_does_not_know_it(site: Path) -> None:
    proc = cli("validate", str(PLAYBOOK))
    assert proc.returncode == 2 and "no connector named 'echo' is installed" in proc.stderr


def test_the_project_venv_is_untouched(site: Path) -> None:
    eps = importlib.metadata.entry_points(group="runner.connectors")
    assert "echo" not in {ep.name for ep in eps}
    assert importlib.util.find_spec("runner_connector_echo") is None
    assert not list(PACKAGE.glob("*.egg-info")) and not (PACKAGE / "build").exists()

"""Helpers for the tests: run a playbook against simulators and collect every output."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner import api
from runner.results import RunResult
from runner.sandbox import Sandbox
from runner.secrets import Redactor

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOKS = ROOT / "playbooks"
RUNNER = Path(sys.executable).with_name("runner")

# fast simulator timings for the suite: jobs finish in about a second
FAST = {
    "automatos": {"schedule_seconds": 0.2, "run_seconds": 0.3},
    "alvaria": {"run_seconds": 0.3, "service_seconds": {"SlowService": 0.6}},
}


@dataclass
class Outcome:
    result: RunResult
    console: str
    report_json: str
    junit: str
    sandbox: Sandbox
    redactor: Redactor

    def outputs(self) -> str:
        """Every text the run produced, for leak searches."""
        return "\n".join([self.console, self.report_json, self.junit])


def run_playbook(path: str | Path, tmp_path: Path, inputs: dict[str, Any] | None = None,
                 sandbox: Sandbox | None = None, env: str = "sandbox",
                 root: Path | None = None) -> Outcome:
    box = sandbox or Sandbox({k: dict(v) for k, v in FAST.items()})
    stream = io.StringIO()
    redactor = Redactor()
    rj, ju = tmp_path / "report.json", tmp_path / "junit.xml"
    try:
        result = api.run(path, env=env, inputs=inputs or {}, report_json=rj, junit=ju,
                         stream=stream, redactor=redactor, sandbox=box, root=root)
    finally:
        if sandbox is None:
            box.stop()
    return Outcome(result, stream.getvalue(), rj.read_text(), ju.read_text(), box, redactor)


def automatos_env(tmp_path: Path, sim: Any, name: str = "lab.yaml") -> Path:
    """An environment file pointing the automatos connector at ``sim``; its key is read from
    ``$AUTOMATOS_KEY`` (pass ``{"AUTOMATOS_KEY": sim.automatos_key}`` to the process)."""
    env = tmp_path / name
    env.write_text(f"""\
connectors:
  automatos:
    base_url: {sim.url}
    automatos_id: "{sim.automatos_id}"
    automatos_key: {{secret: AUTOMATOS_KEY}}
""")
    return env


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the installed ``runner`` command as a user would."""
    return subprocess.run([str(RUNNER), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env={**os.environ, **(env or {})})


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 and its key, made by openssl in ``folder``.
    Without openssl the test is skipped, except under CI=true, where it fails."""
    import pytest

    crt, key = folder / "cert.pem", folder / "key.pem"
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-keyout", str(key), "-out", str(crt), "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"openssl cannot make a certificate here: {e} (CI=true: a failure)")
        pytest.skip(f"openssl cannot make a certificate here: {e}")
    return crt, key


def offline_build_possible() -> bool:
    """Can this venv build a wheel with no index? (setuptools >= 70.1, or `wheel` installed)"""
    import importlib.metadata
    import importlib.util

    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return False
    major, minor = (int(x) for x in version.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


def pip_install_target(package: Path, tmp: Path) -> Path:
    """``package`` (a folder with a pyproject.toml) installed by pip into ``tmp/site`` with no
    dependencies, for subprocesses to see on PYTHONPATH: the project's .venv is left alone."""
    import shutil

    src = tmp / "src"
    # build from a copy: pip builds in place and would leave build/ and *.egg-info behind
    shutil.copytree(package, src, ignore=shutil.ignore_patterns("build", "*.egg-info",
                                                                  "__pycache__"))
    target = tmp / "site"
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
           str(target), str(src)]
    if offline_build_possible():
        cmd[4:4] = ["--no-build-isolation", "--no-index"]
    # else pip fetches setuptools for the build from the configured index, as `make` does
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return target


def dev_module(name: str) -> Any:
    """The module ``name`` of the dev extra, imported; missing (an old venv), the calling test
    module is skipped, except under CI=true, where that is a failure."""
    import importlib

    import pytest

    try:
        return importlib.import_module(name)
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed (the dev extra): CI=true makes it a failure",
                        pytrace=False)
        pytest.skip(f"{name} is not installed: pip install -e '.[dev]'", allow_module_level=True)


def answer_json(handler: Any, body: bytes) -> None:
    """A ``BaseHTTPRequestHandler`` answers 200 with this JSON ``body`` (keep-alive framing:
    a Content-Length)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)

"""Another distribution that ships its own top-level ``plugins/`` package, installed beside
runner and uninstalled again, leaves runner's files and its connectors alone (issue 12).

runner is installed from a wheel built from this checkout into a venv of the test's own, so
what is checked is what ``pip install runner`` puts in site-packages, not the editable install.
That venv has no pip and no dependencies of its own: the outer pip installs into it
(``pip --python``) and a ``.pth`` line lends it this venv's site-packages for the dependencies
(a ``.pth`` line adds a path; the ``.pth`` files there, the editable runner's among them, are not
run), so nothing is downloaded and the venv takes a fraction of a second.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from helpers import ROOT, offline_build_possible

CONNECTORS = ["alvaria", "automatos", "era", "http", "mor", "nddprint"]
# every file of runner's installed RECORD that has a hash still has that content
INTACT = """\
import base64, hashlib, sys
from importlib.metadata import distribution
bad = []
for f in distribution("runner").files:
    if f.hash is None:
        continue
    p = f.locate()
    got = base64.urlsafe_b64encode(hashlib.new(f.hash.mode, p.read_bytes()).digest()) \\
        if p.is_file() else b"(missing)"
    if got.rstrip(b"=").decode() != f.hash.value:
        bad.append(str(f))
print("\\n".join(bad))
sys.exit(1 if bad else 0)
"""
FOREIGN_PYPROJECT = """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "foreign-plugins"
version = "1.0"

[tool.setuptools]
packages = ["plugins"]
"""


def _pip(python: Path, *args: str) -> None:
    offline = ["--no-build-isolation", "--no-index"] if offline_build_possible() else []
    cmd = [sys.executable, "-m", "pip", "--python", str(python), *args[:1], "--quiet",
           *(offline if args[0] in ("install", "wheel") else []), *args[1:]]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _copy(src: Path, dst: Path) -> Path:
    # pip builds in place and would leave build/ and *.egg-info behind in the checkout
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__", ".venv", ".git", "tests", ".mypy_cache",
        ".ruff_cache", ".pytest_cache"))
    return dst


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("foreign")
    src = _copy(ROOT, tmp / "runner-src")
    _pip(Path(sys.executable), "wheel", "--no-deps", "-w", str(tmp / "wheels"), str(src))
    env = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    Path(site.stdout.strip(), "_outer_deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")
    _pip(python, "install", "--no-deps", *map(str, (tmp / "wheels").glob("runner-*.whl")))
    return env


def _runner_works(env: Path, tmp_path: Path) -> None:
    runner = str(env / "bin" / "runner")
    # outside the checkout: nothing of it on sys.path but what the wheel installed
    proc = subprocess.run([runner, "connectors"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    connectors, _, sources = proc.stdout.partition("\nsecret sources ")  # then the sources
    listed = [line.split()[0] for line in connectors.splitlines() if line[:1].isalpha()]
    assert listed == CONNECTORS, proc.stdout
    assert [line.split()[0] for line in sources.splitlines()[1:]] == ["env", "command"]
    proc = subprocess.run([runner, "run", str(ROOT / "playbooks" / "onboard-employee.yaml"),
                           "--env", "sandbox"], capture_output=True, text=True, cwd=ROOT,
                          timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = subprocess.run([str(env / "bin" / "python"), "-c", INTACT], capture_output=True,
                          text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, f"runner's installed files changed:\n{proc.stdout}"


def test_a_foreign_plugins_package_installs_and_uninstalls_beside_runner(
        venv: Path, tmp_path: Path) -> None:
    python = venv / "bin" / "python"
    _runner_works(venv, tmp_path)

    foreign = tmp_path / "foreign"
    (foreign / "plugins").mkdir(parents=True)
    (foreign / "pyproject.toml").write_text(FOREIGN_PYPROJECT)
    (foreign / "plugins" / "__init__.py").write_text('"""Somebody else\'s plugins."""\n')
    _pip(python, "install", "--no-deps", str(foreign))
    site = Path(subprocess.run([str(python), "-c", "import plugins; print(plugins.__file__)"],
                               capture_output=True, text=True, cwd=tmp_path,
                               check=True).stdout.strip())
    assert site.read_text() == '"""Somebody else\'s plugins."""\n'  # it is installed
    _runner_works(venv, tmp_path)

    _pip(python, "uninstall", "--yes", "foreign-plugins")
    assert not site.exists()
    _runner_works(venv, tmp_path)

"""runner installed as a user installs it where ``PYTHONDONTWRITEBYTECODE=1`` is set: the two
installs ``process_cold`` times beside the bench's own venv (issue 14).

With the variable set, the interpreter writes no ``.pyc`` when it imports, but pip still writes
them when it installs: pip byte-compiles every ``.py`` of a wheel it installs
(``pip/_internal/operations/install/wheel.py``: ``compileall.compile_file(path, force=True)``,
unless ``--no-compile``), and ``py_compile`` does not read ``sys.dont_write_bytecode``. So a
Dockerfile's ``ENV PYTHONDONTWRITEBYTECODE=1`` before ``RUN pip install ...`` (this
repository's Dockerfile does that) gives a runner and dependencies with their ``.pyc``, and a
stdlib with its own. What is compiled on every start is only what pip did not install:

- **wheel**: runner's wheel, built from this checkout (``pip wheel --no-deps``) and installed
  with the variable set into a fresh venv: pip wrote its ``.pyc`` (the bench checks and
  reports how many);
- **checkout**: ``pip install -e`` of a copy of this checkout (no ``__pycache__`` in it) with
  the variable set into another fresh venv: an editable install compiles nothing of the
  source tree, so runner's own modules are compiled on every start (the bench checks that the
  copy still has no ``.pyc`` after its rounds), while the stdlib and the dependencies have
  theirs.

Both venvs are ``python -m venv --without-pip`` of the bench's interpreter, installed into by
the bench's own pip (``pip --python``), offline. Their dependencies come from the bench's
venv through a ``.pth`` line per site-packages directory on the bench's ``sys.path`` (pip
installed those, with their ``.pyc``); a ``.pth`` line only adds a path, so the ``.pth``
files there, the bench venv's editable runner's finder among them, are not run: each venv
imports its own runner, which the bench checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from bench import ROOT

# what pip needs of the checkout to build runner (setup.py maps plugins/ and schemas/)
SOURCES = ("pyproject.toml", "setup.py", "README.md", "runner", "plugins", "schemas")
NO_WRITE = {"PYTHONDONTWRITEBYTECODE": "1"}


@dataclass
class Install:
    """One venv with runner installed in it."""

    venv: Path
    package: Path  # the runner package its interpreter imports

    @property
    def runner(self) -> str:
        return str(self.venv / "bin" / "runner")

    def counts(self) -> tuple[int, int]:
        """(``.py`` files, ``.pyc`` files) under the runner package it imports."""
        return (sum(1 for _ in self.package.rglob("*.py")),
                sum(1 for _ in self.package.rglob("*.pyc")))


def _pip(python: Path, *args: str) -> None:
    env = {**os.environ, **NO_WRITE}
    cmd = [sys.executable, "-m", "pip", "--python", str(python), "--quiet",
           "--disable-pip-version-check", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}:\n{proc.stdout}{proc.stderr}"[-3000:])


def _venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True,
                   timeout=120)
    python = path / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    deps = [ours, *(p for p in sys.path if p.endswith("site-packages") and p != ours)]
    Path(purelib, "_bench_deps.pth").write_text("".join(f"{p}\n" for p in deps))
    return python


def _imported(python: Path, cwd: Path) -> Path:
    """The runner package ``python`` imports, from a folder outside the checkout."""
    out = subprocess.run([str(python), "-c", "import runner; print(runner.__file__)"],
                         capture_output=True, text=True, check=True, cwd=cwd,
                         env={**os.environ, **NO_WRITE}).stdout.strip()
    return Path(out).parent


def _copy(dst: Path) -> Path:
    dst.mkdir()
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dst / name, ignore=shutil.ignore_patterns(
                "__pycache__", "*.pyc", "*.egg-info", "build"))
        else:
            shutil.copy2(src, dst / name)
    return dst


def wheel_install(tmp: Path) -> Install:
    """runner's wheel, installed with ``PYTHONDONTWRITEBYTECODE=1`` into a fresh venv."""
    src = _copy(tmp / "wheel-src")
    wheels = tmp / "wheels"
    _pip(Path(sys.executable), "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", str(wheels), str(src))
    python = _venv(tmp / "venv-wheel")
    _pip(python, "install", "--no-deps", "--no-index", *map(str, wheels.glob("runner-*.whl")))
    install = Install(tmp / "venv-wheel", _imported(python, tmp))
    if not install.package.is_relative_to(install.venv):
        raise RuntimeError(f"the wheel's venv imports runner from {install.package}")
    return install


def checkout_install(tmp: Path) -> Install:
    """``pip install -e`` of a copy of the checkout with ``PYTHONDONTWRITEBYTECODE=1``."""
    src = _copy(tmp / "checkout")
    python = _venv(tmp / "venv-checkout")
    _pip(python, "install", "--no-deps", "--no-build-isolation", "--no-index", "-e", str(src))
    install = Install(tmp / "venv-checkout", _imported(python, tmp))
    if install.package != src / "runner":
        raise RuntimeError(f"the checkout's venv imports runner from {install.package}")
    return install

"""The ``runner`` console script (issue 14): ``runner --version`` answers without importing
click or a command, prints what the click group prints, and every other command line goes to
the group unchanged. Real processes, each started as the console script pip writes starts it
(``from <module> import <function>; sys.exit(<function>())``, from pyproject's
``[project.scripts]``), beside the click group itself (``runner.cli.common.main``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from helpers import ROOT

SCRIPT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["runner"]
GROUP = "runner.cli.common:main"
# after the command, the modules of click and of runner.cli it loaded, on stderr
SHOW = ("\nfinally:\n    print(sorted(m for m in sys.modules if m == 'click' or "
        "m.startswith(('click.', 'runner.cli.'))), file=sys.stderr)")


def _run(entry: str, *args: str, cwd: Path = ROOT, stdout: int | None = None,
         show: bool = False) -> subprocess.CompletedProcess[str]:
    module, _, func = entry.partition(":")
    code = f"import sys\nfrom {module} import {func}\nsys.argv[0] = 'runner'\n"
    code += (f"try:\n    sys.exit({func}())" + SHOW) if show else f"sys.exit({func}())"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, text=True,
                          stdout=stdout if stdout is not None else subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60)


def test_the_console_script_is_the_entry_module() -> None:
    assert SCRIPT == "runner.cli.entry:main"


def test_version_prints_what_the_click_group_prints() -> None:
    ours, clicks = _run(SCRIPT, "--version"), _run(GROUP, "--version")
    assert (ours.returncode, ours.stdout, ours.stderr) == (0, clicks.stdout, "")
    assert clicks.returncode == 0
    assert ours.stdout == "runner, version 0.1.0\n"


def test_version_loads_neither_click_nor_a_command() -> None:
    proc = _run(SCRIPT, "--version", show=True)
    assert proc.returncode == 0
    assert proc.stderr.strip() == "['runner.cli.entry']"


@pytest.mark.parametrize("args", [(), ("--help",), ("-h",), ("--version", "--help"),
                                  ("--help", "--version"), ("--version", "extra"),
                                  ("--versio",), ("validate", "--help")])
def test_every_other_command_line_goes_to_the_group(args: tuple[str, ...]) -> None:
    ours, clicks = _run(SCRIPT, *args), _run(GROUP, *args)
    assert (ours.returncode, ours.stdout, ours.stderr) == \
        (clicks.returncode, clicks.stdout, clicks.stderr)
    assert ours.stdout or ours.stderr


def test_a_command_still_runs_through_the_entry(tmp_path: Path) -> None:
    playbook = tmp_path / "p.yaml"
    playbook.write_text("name: p\nsteps:\n  - id: a\n    assert: 1 == 1\n")
    proc = _run(SCRIPT, "validate", str(playbook), show=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"ok: {playbook}")
    assert "'runner.cli.validate'" in proc.stderr.splitlines()[-1]


def test_version_to_a_closed_pipe_ends_as_click_does() -> None:
    """``runner --version | true``: the reader is gone; exit 1, no traceback (click's way)."""
    read, write = os.pipe()
    os.close(read)
    try:
        ours, clicks = _run(SCRIPT, "--version", stdout=write), _run(GROUP, "--version",
                                                                     stdout=write)
    finally:
        os.close(write)
    assert (ours.returncode, ours.stderr) == (clicks.returncode, clicks.stderr) == (1, "")


def test_python_m_runner_cli_is_the_entry() -> None:
    proc = subprocess.run([sys.executable, "-m", "runner.cli", "--version"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (0, "runner, version 0.1.0\n")

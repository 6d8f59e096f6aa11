"""``runner run`` as a process, its stdout on a pseudo-terminal, a pipe, or gone (issue 15).

On a terminal the console is rich: colour and a live line; ``NO_COLOR`` takes the colour away,
``FORCE_COLOR`` gives it to a pipe. Into a pipe, with ``-q``, and for ``runner validate``, rich
is not even imported. A reader that goes away (``| head -1``, a terminal closed) never changes
the run's outcome: the exit code and the history say passed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from helpers import PLAYBOOKS, ROOT, RUNNER
from terminal import on_a_terminal

from runner.store import Store

DISTRIBUTE = PLAYBOOKS / "automatos" / "distribute-package.yaml"
ARGS = [str(DISTRIBUTE), "-i", "hostname=NTB2"]
CLEAR = "\r\x1b[2K"
# a colour (foreground 30-38, 90-97), as opposed to bold or dim, which NO_COLOR leaves
COLOUR = re.compile(r"\x1b\[(?:\d+;)*(?:3[0-8]|9[0-7])(?:;\d+)*m")
# the CLI as the console script calls it; at exit, whether rich was imported
PROBE = """
import atexit, sys
atexit.register(lambda: print("rich imported:", "rich" in sys.modules, file=sys.stderr))
from runner.cli import main
main(sys.argv[1:], prog_name="runner")
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return {**env, "TERM": "xterm", "RUNNER_STORE": str(tmp_path / "runs.db"), **extra}


def test_a_terminal_gets_colour_and_a_live_line(tmp_path: Path) -> None:
    code, out, err = on_a_terminal([str(RUNNER), "run", *ARGS], _env(tmp_path))
    assert code == 0, out + err
    assert "\x1b[32mPASS\x1b[0m" in out and "\x1b[1;32mPASSED\x1b[0m" in out  # green
    assert CLEAR in out and re.search(r"wait automatos\.distribution_status · attempt \d+ · "
                                      r"\d+\.\d s · delivered = '(scheduled|running)'", out)


def test_no_color_takes_the_colour_away_but_not_the_live_line(tmp_path: Path) -> None:
    code, out, err = on_a_terminal([str(RUNNER), "run", *ARGS], _env(tmp_path, NO_COLOR="1"))
    assert code == 0, out + err
    assert not COLOUR.search(out), repr(out[:500])
    assert CLEAR in out and "PASS wait" in out


def test_a_pipe_gets_plain_lines_and_force_color_colours_them(tmp_path: Path) -> None:
    piped = subprocess.run([str(RUNNER), "run", *ARGS], capture_output=True, text=True,
                           cwd=ROOT, env=_env(tmp_path), timeout=60)
    assert piped.returncode == 0, piped.stdout + piped.stderr
    assert "\x1b" not in piped.stdout and "  PASS wait " in piped.stdout
    assert "...  wait" in piped.stdout  # a line per attempt: a log has no live line
    forced = subprocess.run([str(RUNNER), "run", *ARGS], capture_output=True, text=True,
                            cwd=ROOT, env=_env(tmp_path, FORCE_COLOR="1"), timeout=60)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "\x1b[32mPASS\x1b[0m" in forced.stdout and CLEAR not in forced.stdout
    assert "...  wait" in forced.stdout


def _imports_rich(tmp_path: Path, *args: str, terminal: bool = False) -> bool:
    cmd = [sys.executable, "-c", PROBE, *args]
    if terminal:
        code, out, err = on_a_terminal(cmd, _env(tmp_path))
    else:
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60,
                              env=_env(tmp_path))
        code, out, err = done.returncode, done.stdout, done.stderr
    assert code == 0, out + err
    said = [ln for ln in err.splitlines() if ln.startswith("rich imported:")]
    assert len(said) == 1, err
    return said[0].endswith("True")


def test_rich_is_imported_only_for_a_terminal(tmp_path: Path) -> None:
    assert not _imports_rich(tmp_path, "validate", str(DISTRIBUTE))
    assert not _imports_rich(tmp_path, "run", *ARGS)  # piped
    assert not _imports_rich(tmp_path, "run", *ARGS, "-q")
    assert not _imports_rich(tmp_path, "run", *ARGS, "--no-progress", terminal=True)
    assert _imports_rich(tmp_path, "run", *ARGS, terminal=True)


def _the_run_passed(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "runs.db"))
    try:
        runs = store.find_runs()
    finally:
        store.close()
    assert [r["status"] for r in runs] == ["passed"], runs


def test_a_reader_that_goes_away_does_not_change_the_outcome(tmp_path: Path) -> None:
    for extra in ({}, {"FORCE_COLOR": "1"}):  # plain lines, and rich's
        (tmp_path / "runs.db").unlink(missing_ok=True)
        runner = subprocess.Popen([str(RUNNER), "run", *ARGS, "-v"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, cwd=ROOT, env=_env(tmp_path, **extra))
        head = subprocess.run(["head", "-1"], stdin=runner.stdout, capture_output=True,
                              text=True, timeout=60)
        assert runner.stdout is not None and runner.stderr is not None
        runner.stdout.close()  # head holds the only reading end: it exits after one line
        err = runner.stderr.read().decode()
        assert runner.wait(timeout=60) == 0, err
        assert head.stdout.startswith("runner · Distribute a package")
        assert err == ""  # no BrokenPipeError, no "Exception ignored"
        _the_run_passed(tmp_path)


def test_a_terminal_closed_during_the_run_does_not_change_the_outcome(tmp_path: Path) -> None:
    code, out, err = on_a_terminal([str(RUNNER), "run", *ARGS], _env(tmp_path),
                                   hang_up_after=1)
    assert out.startswith("runner · Distribute a package")
    assert code == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    _the_run_passed(tmp_path)

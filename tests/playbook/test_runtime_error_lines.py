"""Every error met while a run is running names the step's file:line (issue 16): in the
console, in the run's error that history, ``runner show`` and the JSON report keep, and for an
included playbook's step, the included file's line. Real runs through the CLI, against the
sandbox's simulators (ERA) or a closed loopback port."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
from helpers import cli

MAIN = """\
name: errors at run time
inputs:
  kind: {type: string}
connectors:
  era: {use: era}
steps:
  - id: listing
    call: era.list_channels
    extract:
      first: $.[0].code
  - id: check
    when: "inputs.kind == 'assert'"
    assert:
      - that: "first == 'nope'"
  - id: render
    when: "inputs.kind == 'template'"
    call: era.get_channel
    with: {id: "{{ first.nope.deeper }}"}
  - id: extract
    when: "inputs.kind == 'extract'"
    call: era.list_channels
    extract:
      missing: $.[0].nosuchfield
  - id: vendor
    when: "inputs.kind == 'vendor'"
    call: era.get_channel
    with: {id: "no-such-id"}
  - id: looped  # with a loop, when: is each item's: the loop itself says when
    loop: "{{ first if inputs.kind == 'loop' else [] }}"
    assert:
      - that: "true"
  - id: inc
    when: "inputs.kind == 'include'"
    include: inner.yaml
"""

INNER = """\
name: inner
connectors:
  era: {use: era}
steps:
  - id: inner_ok
    call: era.list_channels
  - id: inner_bad
    assert:
      - that: "1 == 2"
        message: inner failed
"""

TRANSPORT = """\
name: a closed port
inputs:
  port: {type: integer}
connectors:
  h: {use: http, settings: {base_url: "http://127.0.0.1:{{ inputs.port }}"}}
steps:
  - id: first
    call: h
    method: GET
    path: /anything
    retry: false
"""


def line_of(path: Path, text: str) -> int:
    return next(n for n, ln in enumerate(path.read_text().splitlines(), 1) if text in ln)


def run(tmp_path: Path, playbook: Path, *args: str) -> tuple[str, str, dict[str, object]]:
    """Run through the CLI; the console, the history line and the JSON report's run."""
    store, report = tmp_path / "runs.db", tmp_path / "report.json"
    done = cli("run", playbook.name, *args, "--store", str(store), "--report-json",
               str(report), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    history = cli("history", "--store", str(store), cwd=tmp_path).stdout
    return done.stdout, history, json.loads(report.read_text())


@pytest.fixture
def main(tmp_path: Path) -> Path:
    (tmp_path / "inner.yaml").write_text(INNER)
    path = tmp_path / "main.yaml"
    path.write_text(MAIN)
    return path


@pytest.mark.parametrize(("kind", "step", "said"), [
    ("assert", "check", "assertion failed: first == 'nope'"),
    ("template", "render", "with: undefined value: 'str object' has no attribute 'nope'"),
    ("extract", "extract", "extract missing: jsonpath '$.[0].nosuchfield' matched nothing"),
    ("vendor", "vendor", "era.get_channel answered: Not found (error_code 1404)"),
    ("loop", "looped", "loop: expected a list, got str 'ABCDE'"),
])
def test_a_step_failure_names_the_steps_line(kind: str, step: str, said: str, main: Path,
                                             tmp_path: Path) -> None:
    where = f"main.yaml:{line_of(main, f'- id: {step}')}"
    console, history, report = run(tmp_path, main, "-i", f"kind={kind}")
    assert f"FAILED at step '{step}' ({where})" in console, console
    assert report["error"] == f"{where}: {said}", report["error"]
    assert f"({where}: " in history, history
    steps = {s["id"]: s for s in report["steps"]}  # type: ignore[attr-defined]
    assert steps[step]["where"] == where and steps[step]["error"] == said


def test_an_included_steps_failure_names_the_included_files_line(main: Path,
                                                                 tmp_path: Path) -> None:
    inner = tmp_path / "inner.yaml"
    outer = f"main.yaml:{line_of(main, '- id: inc')}"
    at = f"{inner.resolve()}:{line_of(inner, '- id: inner_bad')}"
    console, history, report = run(tmp_path, main, "-i", "kind=include")
    assert f"FAILED at step 'inc' ({outer})" in console and f"in inc > inner_bad ({at})" \
        in console, console
    # the step's own error (console, report) names the included file's line; the run's error
    # both, from the outside in
    assert f"error: {at}: step 'inner_bad': inner failed (assertion: 1 == 2)" in console
    assert report["error"] == f"{outer}: {at}: step 'inner_bad': inner failed " \
        "(assertion: 1 == 2)", report["error"]
    assert f"({outer}: " in history


def test_a_connection_refused_names_the_steps_line(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on: taken, then let go
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    playbook = tmp_path / "closed.yaml"
    playbook.write_text(TRANSPORT)
    where = f"closed.yaml:{line_of(playbook, '- id: first')}"
    console, history, report = run(tmp_path, playbook, "--env", "none", "-i", f"port={port}")
    assert f"FAILED at step 'first' ({where})" in console, console
    assert re.match(rf"{re.escape(where)}: h: cannot connect \(127\.0\.0\.1:{port}\)",
                    str(report["error"])), report["error"]
    assert f"({where}: h: cannot connect" in history


def test_an_invalid_setting_found_at_a_step_names_its_line(tmp_path: Path) -> None:
    """The sandbox starts a connector's simulator at its first step: `use: http` has none,
    an error of the command line's kind (exit 2), said at that step."""
    playbook = tmp_path / "closed.yaml"
    playbook.write_text(TRANSPORT)
    line = line_of(playbook, "- id: first")
    done = cli("run", playbook.name, "-i", "port=9", "--store", str(tmp_path / "r.db"),
               cwd=tmp_path)
    assert done.returncode == 2
    assert f"error: closed.yaml:{line}:5: step 'first': connector 'http' has no simulator" \
        in done.stderr, done.stderr
    history = cli("history", "--store", str(tmp_path / "r.db"), cwd=tmp_path).stdout
    assert f"(closed.yaml:{line}: connector 'http' has no simulator" in history, history


def test_an_output_that_fails_names_its_own_line(tmp_path: Path) -> None:
    """The outputs render after the last step: a failure there names the output's line (it
    said `outputs: TypeError ...`, with no place), in the console, the report and history."""
    playbook = tmp_path / "outs.yaml"
    playbook.write_text("""\
name: outputs at run time
steps:
  - id: s
    assert: "true"
outputs:
  fine: "{{ steps.s is defined }}"
  broken: "{{ none + 'x' }}"
""")
    where = f"outs.yaml:{line_of(playbook, 'broken:')}"
    console, history, report = run(tmp_path, playbook)
    assert f"error: {where}: outputs > broken: TypeError" in console, console
    assert str(report["error"]).startswith(f"{where}: outputs > broken: "), report["error"]
    assert f"({where}: outputs > broken" in history, history

"""Terminal control sequences a server sends (ESC, BEL, OSC 8 links, OSC 52 clipboard writes,
C1 controls) are shown escaped, never acted on, in the console, errors, ``runner history`` and
``runner show`` (issue 11, "nothing escapes")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
from helpers import cli
from leakcheck import echo_env, playbook, started

from runner.errors import EXIT_INVALID
from runner.printable import printable
from runner.simulator import Simulator, route
from runner.simulator_messages import Reply, Request

CLEAR = "\x1b[2J"
CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4K\x07"  # OSC 52: write "rm -rf ~" to the clipboard
LINK = "\x1b]8;;http://evil.example/\x1b\\click me\x1b]8;;\x1b\\"  # OSC 8: a forged link
EVIL = f"{CLEAR}bad thing{CLIPBOARD} happened {LINK}\r\x9b31m\x07"


class Evil(Simulator):
    name = "evil"

    @route("POST", "/auth")
    def auth(self, req: Request) -> Reply:
        return Reply(200, b'{"status": true, "data": {"token": "t0ken"}}',
                     {"Content-Type": "application/json"})

    @route("GET", "/job")
    def job(self, req: Request) -> Reply:  # the automatos envelope: status false is an error
        return Reply(400, json.dumps({"status": False, "error": EVIL}, ensure_ascii=False
                                     ).encode("utf-8"), {"Content-Type": "application/json"})


@pytest.fixture(scope="module")
def evil() -> Iterator[Evil]:
    yield from started(Evil())  # type: ignore[misc]


def controls(text: str) -> list[str]:
    return sorted({c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f})


def test_printable_escapes_every_control_but_newline_and_tab() -> None:
    assert printable(EVIL) == ("\\x1b[2Jbad thing\\x1b]52;c;cm0gLXJmIH4K\\x07 happened "
                               "\\x1b]8;;http://evil.example/\\x1b\\click me\\x1b]8;;\\x1b\\"
                               "\\x0d\\x9b31m\\x07")
    assert printable("a\tb\nc ä € \x7f\x00\x1f\x80\x9f\xa0") == \
        "a\tb\nc ä € \\x7f\\x00\\x1f\\x80\\x9f\xa0"


def test_a_servers_control_sequences_are_shown_escaped(tmp_path: Path, evil: Evil) -> None:
    store = tmp_path / "runs.db"
    pb = playbook(tmp_path, "steps:\n  - {id: job, call: h, method: GET, path: /job}\n")
    env = echo_env(tmp_path, evil)
    junit = tmp_path / "junit.xml"
    ran = cli("run", str(pb), "-e", str(env), "--store", str(store), "--no-progress",
              "--junit", str(junit), env={"ECHO_KEY": "k3y-value"})
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "\\x1b[2Jbad thing" in ran.stdout, ran.stdout  # shown, escaped
    assert controls(ran.stdout + ran.stderr) == []
    failure = ElementTree.parse(junit).find(".//failure")  # still XML that CI can read
    assert failure is not None and "\\x1b[2Jbad thing" in failure.get("message", "")
    run_id = next(line.split()[0] for line in
                  cli("history", "--store", str(store)).stdout.splitlines())
    for args in (["history"], ["show", run_id]):
        out = cli(*args, "--store", str(store))
        assert "\\x1b[2Jbad thing" in out.stdout, out.stdout
        assert controls(out.stdout + out.stderr) == [], args
    shown = cli("show", run_id, "--json", "--store", str(store))
    assert EVIL in json.loads(shown.stdout)["error"]  # JSON keeps the data, escaped as JSON
    assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout


def test_control_characters_in_an_error_message_are_escaped(tmp_path: Path) -> None:
    name = tmp_path / f"nope{CLEAR}{CLIPBOARD}.yaml"
    proc = cli("validate", str(name))
    assert proc.returncode == EXIT_INVALID
    assert "\\x1b[2J\\x1b]52;c;" in proc.stderr, proc.stderr
    assert controls(proc.stdout + proc.stderr) == []


class Forger(Simulator):
    """An error body with line breaks that, printed as they are, look like rows of history."""

    name = "forger"
    FORGED = "denied\n20261201-000000-f0f0f0   2026-12-01 00:00:00  passed         1.0s  deploy"

    @route("POST", "/auth")
    def auth(self, req: Request) -> Reply:
        return Reply(200, b'{"status": true, "data": {"token": "t0ken"}}',
                     {"Content-Type": "application/json"})

    @route("GET", "/job")
    def job(self, req: Request) -> Reply:
        return Reply(400, json.dumps({"status": False, "error": self.FORGED}).encode(),
                     {"Content-Type": "application/json"})


def test_a_servers_line_breaks_cannot_forge_a_row_of_history(tmp_path: Path) -> None:
    """`runner history` is one line per run: an error that holds a line break (and a fake row
    after it) is shown on its run's line, so history shows one run, failed, and no "passed"."""
    store = tmp_path / "runs.db"
    pb = playbook(tmp_path, "steps:\n  - {id: job, call: h, method: GET, path: /job}\n")
    for sim in started(Forger()):
        ran = cli("run", str(pb), "-e", str(echo_env(tmp_path, sim)), "--store", str(store),
                  "--no-progress", env={"ECHO_KEY": "k3y-value"})
        assert ran.returncode == 1, ran.stdout + ran.stderr
    shown = cli("history", "--store", str(store), "--limit", "5")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert len(lines) == 1, lines
    # the forged row's words may show inside this run's parentheses, never as a row of their own
    assert " failed " in lines[0] and "denied" in lines[0]
    assert not any(line.startswith("20261201-000000") for line in lines)


def test_a_servers_control_sequences_are_escaped_in_a_batch_and_its_resume(
        tmp_path: Path, evil: Evil) -> None:
    """The same answer in `runner run --inputs-from` (each row's line and the summary's list
    of failures) and in `runner resume --batch`: shown escaped, never acted on."""
    store = tmp_path / "runs.db"
    pb = playbook(tmp_path, "steps:\n  - {id: job, call: h, method: GET, path: /job}\n")
    rows = tmp_path / "rows.jsonl"
    rows.write_text("{}\n{}\n")
    ran = cli("run", str(pb), "-e", str(echo_env(tmp_path, evil)), "--store", str(store),
              "--inputs-from", str(rows), env={"ECHO_KEY": "k3y-value"})
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert ran.stdout.count("\\x1b[2Jbad thing") == 4, ran.stdout  # two rows, two summary lines
    assert controls(ran.stdout + ran.stderr) == []
    batch_id = ran.stdout.split()[1].rstrip(":")
    again = cli("resume", "--batch", batch_id, "--store", str(store),
                env={"ECHO_KEY": "k3y-value"})
    assert controls(again.stdout + again.stderr) == [], again.stdout

"""Progress on a terminal (rich: colour, a live line redrawn in place) and JSON log lines, on
real runs; the live line's text composed alone."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import FAST, PLAYBOOKS

from runner import api
from runner.console import ConsoleReporter
from runner.json_log import JsonLogReporter
from runner.loop_tally import LoopTally
from runner.progress import CLEAR, LiveProgress, console_listener, is_terminal
from runner.progress_line import Running, status_text
from runner.results import FAILED, PASSED, Exchange, Listener, RunResult, StepResult
from runner.sandbox import Sandbox
from runner.secrets import Redactor

HERE = Path(__file__).resolve().parent
LEAKY = HERE / "playbooks" / "leaky.yaml"
LOOP = HERE / "playbooks" / "loop.yaml"
DISTRIBUTE = PLAYBOOKS / "automatos" / "distribute-package.yaml"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


SGR = re.compile(r"\x1b\[[0-9;]*m")  # colour and style: not a move of the cursor
CURSOR = re.compile(r"\x1b\[\?25[lh]")  # hide and show the cursor while the live line is up


def plain(raw: str) -> str:
    """``raw`` without its colours and cursor hiding."""
    return CURSOR.sub("", SGR.sub("", raw))


def screen(raw: str) -> list[str]:
    """What a terminal shows at the end, played as one would: ``\\r``, ``\\n``, erase line
    (``ESC[2K``), cursor up (``ESC[nA``); colours dropped."""
    lines, row, col = [""], 0, 0
    for tok in re.split(r"(\x1b\[[0-9]*[AK]|\r|\n)", plain(raw)):
        if tok == "\r":
            col = 0
        elif tok == "\n":
            row, col = row + 1, 0
            lines += [""] * (row + 1 - len(lines))
        elif tok.startswith("\x1b[") and tok.endswith("K"):
            lines[row] = ""
        elif tok.startswith("\x1b[") and tok.endswith("A"):
            row = max(0, row - int(tok[2:-1] or 1))
        elif tok:
            line = lines[row].ljust(col)
            lines[row] = line[:col] + tok + line[col + len(tok):]
            col += len(tok)
    return lines


def frames(raw: str) -> list[str]:
    """Every state the live line was drawn in: rich draws it after the lines printed above it
    and erases it (``\\r ESC[2K``) before the next draw."""
    out = [plain(piece).split("\n")[-1] for piece in raw.split(CLEAR)]
    return [f for f in out if f.strip()]


def run(path: Path, listener: Listener, redactor: Redactor, inputs: dict[str, Any] | None = None
        ) -> tuple[RunResult, Sandbox]:
    box = Sandbox({k: dict(v) for k, v in FAST.items()})
    try:
        result = api.run(path, inputs=inputs or {}, listeners=[listener], quiet=True,
                         redactor=redactor, sandbox=box, store=False)
    finally:
        box.stop()
    return result, box


def secrets_of(box: Sandbox, redactor: Redactor) -> list[str]:
    values = [*box.secret_values(), *redactor.values]
    assert len(values) >= 4
    return values


def test_the_console_is_chosen_by_the_stream_and_the_flags(
        monkeypatch: pytest.MonkeyPatch) -> None:
    red = Redactor()
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    live = console_listener(red, FakeTerminal(), verbose=True)
    assert type(live) is LiveProgress and live.live and live.verbose
    assert type(console_listener(red, io.StringIO())) is ConsoleReporter  # a pipe, a CI log
    assert type(console_listener(red, FakeTerminal(), progress=False)) is ConsoleReporter
    assert type(console_listener(red, FakeTerminal(), log_format="json")) is JsonLogReporter
    assert is_terminal(FakeTerminal()) and not is_terminal(io.StringIO())
    monkeypatch.setenv("FORCE_COLOR", "1")  # colour into a pipe: rich, without a live line
    forced = console_listener(red, io.StringIO())
    assert type(forced) is LiveProgress and not forced.live
    monkeypatch.setenv("NO_COLOR", "1")  # NO_COLOR wins
    assert type(console_listener(red, io.StringIO())) is ConsoleReporter


def test_a_poll_is_a_live_line_redrawn_in_place(tmp_path: Path) -> None:
    term = FakeTerminal()
    red = Redactor()
    result, box = run(DISTRIBUTE, LiveProgress(red, term, interval=0.02, width=200), red,
                      {"hostname": "NTB2"})
    assert result.status == PASSED
    raw = term.getvalue()
    live = frames(raw)
    # the poll's live line: step, attempt, elapsed, and the value its poll-until reads (the
    # expression is "response.json.data.delivered == 'Y'"), redrawn several times
    polls = [f for f in live if re.search(r"wait automatos\.distribution_status · attempt "
                                          r"\d+ · \d+\.\d s · delivered = '(scheduled|running)'$",
                                          f)]
    assert len(polls) >= 2, live
    assert not any('"status"' in f or "HTTP 200" in f for f in live)  # not the raw body
    assert all(len(f) <= 200 for f in live)  # never wider than the terminal: no wrapping
    assert "\x1b[32mPASS\x1b[0m" in raw  # a terminal: PASS in green
    shown = screen(raw)
    # what stays on screen is the plain report, without a line per poll attempt...
    assert any(line.startswith("  PASS wait ") and "attempts" in line for line in shown)
    assert not any("...  wait" in line for line in shown)
    assert shown[-2].startswith("PASSED in") and shown[-1] == ""  # ...and no live line left
    assert not any(s in raw for s in secrets_of(box, red))


def test_a_loop_shows_done_of_total(tmp_path: Path) -> None:
    term = FakeTerminal()
    red = Redactor()
    result, _ = run(LOOP, LiveProgress(red, term, interval=0.02, width=200), red)
    assert result.status == PASSED, term.getvalue()
    live = frames(term.getvalue())
    done = [f for f in live if re.search(r"lookup automatos\.get_machine · \d(/4)? done", f)]
    assert done, live
    assert re.search(r"· 0/4 done · \d+\.\d s$", done[0]), done  # as it began
    shown = screen(term.getvalue())
    assert shown[-1] == ""
    assert any(re.fullmatch(r" +4 iterations: 4 passed · slowest lookup\[[0-3]\] \d+ ms · "
                            r"\d+ ms", line) for line in shown), shown


def test_loop_progress_counts_from_events() -> None:
    """done/total, failures and running iterations, fed event by event (as threads would)."""
    term = FakeTerminal()
    live = LiveProgress(Redactor(), term, interval=0, width=200)
    loop = StepResult("push", "step 'push'", "call", "era.update_channel", trail="push")
    live.step_started(loop, None)
    live.loop_started(loop, 5)
    its = [StepResult("push", f"step 'push'[{i}]", "call", "era.update_channel",
                      trail=f"push[{i}]") for i in range(3)]
    for i, it in enumerate(its):
        live.step_started(it, i)
    its[0].status, its[0].duration_ms = FAILED, 40.0
    live.step_finished(its[0], 0)
    its[1].duration_ms = 1500.0
    live.step_finished(its[1], 1)
    live.poll_attempt(its[2], 3, 1.5, "state = 'busy'")
    assert re.match(r"push era\.update_channel · 2/5 done, 1 failed, 1 running · slowest "
                    r"push\[1\] 1\.5 s · \d+\.\d s · \[2\] attempt 3: state = 'busy'$",
                    live.status()), live.status()
    live.close()
    assert live.status() == "" and screen(term.getvalue())[-1] == ""


def test_the_live_line_text_is_composed_without_a_terminal_or_a_thread() -> None:
    """runner.progress_line alone: the same line from the same state, at a given time."""
    wait = StepResult("wait", "step 'wait'", "poll", "automatos.distribution_status",
                      trail="wait")
    poll = Running(wait, started=10.0, attempt=2, poll_elapsed=3.0, poll_seen=12.0,
                   state="delivered = 'running'")
    assert status_text([poll], now=12.5) == \
        "wait automatos.distribution_status · attempt 2 · 3.5 s · delivered = 'running'"
    call = Running(StepResult("make", "step 'make'", "call", "era.create", trail="make"),
                   started=10.0, last=Exchange({"method": "POST", "url": "http://h/jobs"},
                                                {"status": 201}))
    assert status_text([call], now=11.5) == "make era.create · 1.5 s · POST /jobs -> 201"
    tally = LoopTally(4, counts={"passed": 1}, running=2, slowest=("push[0]", 320.0))
    loop = Running(StepResult("push", "step 'push'", "call", "era.update", trail="push"),
                   started=0.0, tally=tally)
    inner = Running(StepResult("push", "step 'push'[1]", "call", "era.update",
                               trail="push[1]"), started=1.0, iteration=1, attempt=5)
    assert status_text([loop, inner], now=2.0) == \
        "push era.update · 1/4 done, 2 running · slowest push[0] 320 ms · 2.0 s · [1] attempt 5"
    assert status_text([], now=0.0) == ""


def test_live_output_is_redacted(tmp_path: Path) -> None:
    term = FakeTerminal()
    red = Redactor()
    result, box = run(LEAKY, LiveProgress(red, term, interval=0.02, width=300), red)
    assert result.status == FAILED
    raw = term.getvalue()
    assert "hostname=***" in raw  # the probe's query string, in its live line and its result
    assert "Installation of fail-setup.exe failed" in raw
    for secret in secrets_of(box, red):
        assert secret not in raw


def test_json_log_has_one_object_per_event(tmp_path: Path) -> None:
    out = io.StringIO()
    red = Redactor()
    result, box = run(LEAKY, JsonLogReporter(red, out), red)
    assert result.status == FAILED
    raw = out.getvalue()
    events = [json.loads(line) for line in raw.splitlines()]  # every line is one object
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert set(kinds) == {"run_started", "step_started", "exchange", "poll_attempt",
                          "step_finished", "run_finished"}
    assert all(e["run_id"] == result.run_id and isinstance(e["ts"], float) for e in events)
    assert kinds.count("step_started") == kinds.count("step_finished") == 5
    exchange = next(e for e in events if e["event"] == "exchange" and e["step"] == "machine")
    assert exchange["method"] == "GET" and exchange["status"] == 200
    assert exchange["url"].startswith("http://127.0.0.1:") and "hostname=NTB2" in exchange["url"]
    assert isinstance(exchange["ms"], float)
    probe = next(e for e in events if e["event"] == "exchange" and e["step"] == "probe"
                 and "/machine" in e["url"])  # after the login its first call made
    assert probe["url"].endswith("/machine?hostname=***") and probe["status"] == 400
    assert probe["error"].startswith("machine not found")
    polls = [e for e in events if e["event"] == "poll_attempt"]
    assert polls and polls[0]["step"] == "wait" and polls[0]["attempt"] == 1
    assert {"elapsed_s", "state"} <= set(polls[0])
    # the values the poll-until expression reads, not the start of the raw body
    assert re.fullmatch(r"delivered = '(scheduled|running)'", polls[0]["state"]), polls[0]
    finished = {e["step"]: e for e in events if e["event"] == "step_finished"}
    assert finished["machine"]["extracted"] == {"machine_id": "456DEF"}
    assert finished["check"]["status"] == "failed"
    assert "Installation of fail-setup.exe failed" in finished["check"]["error"]
    job = next(e for e in events if e["event"] == "exchange" and e["step"] == "job"
               and e["method"] == "POST")
    assert job["status"] == 200  # its body held a value derived from a secret: not logged
    last = events[-1]
    assert last["status"] == "failed" and last["failed_step"] == "step 'check'"
    assert last["steps"] == {"passed": 4, "failed": 1}
    for secret in secrets_of(box, red):
        assert secret not in raw


def test_the_live_line_never_wraps() -> None:
    term = FakeTerminal()
    live = LiveProgress(Redactor(), term, interval=0, width=40)
    step = StepResult("wait", "step 'wait'", "poll", "automatos.distribution_status")
    live.step_started(step, None)
    live.poll_attempt(step, 7, 12.5, "HTTP 200 " + "x" * 200)
    assert frames(term.getvalue()) and all(len(f) <= 40 for f in frames(term.getvalue()))
    assert frames(term.getvalue())[-1].endswith("…")
    live.close()


def test_the_live_line_escapes_control_sequences_from_a_server() -> None:
    term = FakeTerminal()
    live = LiveProgress(Redactor(), term, interval=0, width=200)
    poll = StepResult("wait", "step 'wait'", "poll", "h.job", trail="wait")
    live.step_started(poll, None)
    live.poll_attempt(poll, 2, 1.0, "state \x1b]52;c;cm0K\x07\x1b[2J")
    drawn = "".join(frames(term.getvalue()))
    assert "state \\x1b]52;c;cm0K\\x07\\x1b[2J" in drawn, drawn
    assert "\x07" not in term.getvalue() and "\x1b]" not in term.getvalue()
    live.close()

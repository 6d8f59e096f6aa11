"""Reports: the console (as the run goes), a JSON file and a JUnit XML file (at the end).

Everything goes through the run's redactor on its way out; nothing here prints a secret.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from runner.printable import printable
from runner.results import (
    ERRORED,
    FAILED,
    PASSED,
    SKIPPED,
    Exchange,
    Listener,
    RunResult,
    StepResult,
)
from runner.secrets import Redactor

_MARK = {PASSED: "PASS", FAILED: "FAIL", SKIPPED: "SKIP", ERRORED: "ERR!"}


def _short(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_request(request: dict[str, Any]) -> str:
    split = urlsplit(request["url"])
    target = split.path or "/"
    query = request.get("query")
    if query:
        target += "?" + "&".join(f"{k}={v}" for k, v in query.items() if v is not None)
    return f"{request['method']} {target}"


class ConsoleReporter(Listener):
    """One line per event, readable in a terminal and in a CI log alike.

    Steps of included playbooks print as they finish, indented under where they run
    (``software[1] > wait``); a loop of calls lists its iterations when it ends. Each step's
    lines go out in one write, so concurrent iterations don't interleave mid-step.
    """

    def __init__(self, redactor: Redactor, stream: IO[str] | None = None) -> None:
        self.redactor = redactor
        self.stream = stream or sys.stdout
        self.width = 34
        self._printed: set[int] = set()
        self._lock = threading.Lock()
        self.closed = False  # the console could not be written: the run goes on without it

    def line(self, text: str = "") -> None:
        self.write([text])

    def write(self, lines: list[str]) -> None:
        text = "".join(printable(self.redactor.redact(x)) + "\n" for x in lines)
        with self._lock:
            self.put(text)

    def put(self, text: str) -> None:
        """Write ``text`` out. Once the console cannot take it (the reader of a pipe went away,
        ``runner run ... | head``; a full disk under a redirect), write nothing more to it:
        the run goes on to its end and its outcome is recorded as if nobody watched."""
        if self.closed:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # ValueError: the stream was closed
            self.closed = True

    def run_started(self, run: RunResult) -> None:
        lines = [f"runner · {run.playbook}",
                 f"  file {run.file} · env {run.environment} · run {run.run_id}"]
        if run.inputs:
            lines.append("  inputs " + ", ".join(f"{k}={_short(v, 40)}"
                                                 for k, v in run.inputs.items()))
        self.write([*lines, ""])

    def poll_attempt(self, result: StepResult, attempt: int, elapsed: float, state: str) -> None:
        self.line(f"  ...  {result.trail:<12} attempt {attempt} at {elapsed:5.1f} s: {state}")

    def step_finished(self, result: StepResult, iteration: int | None) -> None:
        if iteration is not None and result.kind != "include":
            return  # a loop lists its iterations when it ends
        lines: list[str] = []
        self._step(result, result.key.count(">"), lines)
        self.write(lines)

    def _step(self, result: StepResult, depth: int, out: list[str]) -> None:
        self._printed.add(id(result))
        indent = "  " + "   " * depth
        name = result.trail if depth or "[" in result.trail else result.step_id
        mark = _MARK.get(result.status, result.status.upper())
        head = f"{indent}{mark} {name:<12} {result.target:<{self.width}}"
        last = next((e for e in reversed(result.exchanges) if e.response or e.error), None)
        if last is not None:
            head += " " + self._exchange(last)
        if result.attempts > 1:
            head += f" · {result.attempts} attempts"
        head += f" · {_ms(result.duration_ms)}"
        if result.resumed:
            head += " · done before the resume"
        out.append(head.rstrip())
        pad = indent + "     "
        if result.name:
            out.append(f"{pad}{result.name}")
        if result.skipped_reason:
            out.append(f"{pad}skipped ({result.skipped_reason})")
        for it in result.iterations:
            if id(it) not in self._printed:  # steps of includes were printed as they ended
                self._step(it, depth + 1, out)
        for k, v in result.extracted.items():
            out.append(f"{pad}{k} = {_short(v)}")
        for a in result.assertions:
            if a.get("passed"):
                out.append(f"{pad}ok: {a['that']}")
        for k, v in (result.outputs or {}).items():
            out.append(f"{pad}output {k} = {_short(v)}")
        if result.error and result.status in (FAILED, ERRORED):
            out.append(f"{pad}error: {result.error}")
            if result.hint:
                out.append(f"{pad}hint: {result.hint}")

    def _exchange(self, e: Exchange) -> str:
        req = describe_request(e.request)
        if e.error:
            return f"{req} -> {e.error}"
        assert e.response is not None
        return f"{req} -> {e.response['status']}"

    def run_finished(self, run: RunResult) -> None:
        lines = [""]
        if run.outputs:
            lines.append("outputs:")
            lines += [f"  {k}: {_short(v, 200)}" for k, v in run.outputs.items()]
        counts = _counts(run)
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        if run.status == PASSED:
            lines.append(f"PASSED in {_ms(run.duration_ms)} ({summary})")
        else:
            where = f" at {run.failed_step}" if run.failed_step else ""
            lines.append(f"{run.status.upper()}{where} in {_ms(run.duration_ms)} ({summary})")
            if run.error:
                lines.append(f"  error: {run.error}")
            if run.hint:
                lines.append(f"  hint: {run.hint}")
        self.write(lines)


def _ms(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _counts(run: RunResult) -> dict[str, int]:
    counts = {PASSED: 0, FAILED: 0, SKIPPED: 0, ERRORED: 0}
    for s in run.steps:
        counts[s.status] = counts.get(s.status, 0) + 1
    return counts


def write_json(run: RunResult, path: str | Path, redactor: Redactor) -> None:
    data = redactor.redact_data(run.to_dict())
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    Path(path).write_text(redactor.redact(text) + "\n", encoding="utf-8")


def write_junit(run: RunResult, path: str | Path, redactor: Redactor) -> None:
    counts = _counts(run)
    suite = ET.Element("testsuite", {
        "name": run.playbook, "tests": str(len(run.steps)), "failures": str(counts[FAILED]),
        "errors": str(counts[ERRORED]), "skipped": str(counts[SKIPPED]),
        "time": f"{run.duration_ms / 1000:.3f}",
        "timestamp": str(run.started),
    })
    for s in run.steps:
        case = ET.SubElement(suite, "testcase", {
            "classname": run.file, "name": f"{s.step_id} ({s.target})",
            "time": f"{s.duration_ms / 1000:.3f}",
        })
        if s.status == FAILED:
            fail = ET.SubElement(case, "failure", {"message": s.error or "failed"})
            fail.text = "\n".join(x for x in (s.error, s.hint) if x)
        elif s.status == ERRORED:  # JUnit's word for "not a failed check: it broke"
            err = ET.SubElement(case, "error", {"message": s.error or "internal error"})
            err.text = "\n".join(x for x in (s.error, s.hint) if x)
        elif s.status == SKIPPED:
            ET.SubElement(case, "skipped", {"message": s.skipped_reason or ""})
    suites = ET.Element("testsuites")
    suites.append(suite)
    text = ET.tostring(suites, encoding="unicode")
    # XML 1.0 cannot hold most control characters: one from a server would make the file
    # unreadable to CI, so they are written escaped, as on the console
    Path(path).write_text(printable(redactor.redact('<?xml version="1.0" encoding="UTF-8"?>\n'
                                                    + text)) + "\n", encoding="utf-8")

"""Reports written when a run ends: a JSON file and a JUnit XML file; and the short forms
every report of a run shares (a request in one line, a duration, a value cut to a length, the
count of steps by status), so the console, the plan and the HTML page say them alike.

Everything goes through the run's redactor on its way out; nothing here prints a secret.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from runner.printable import printable
from runner.results import ERRORED, FAILED, PASSED, SKIPPED, RunResult
from runner.secrets import Redactor

MARK = {PASSED: "PASS", FAILED: "FAIL", SKIPPED: "SKIP", ERRORED: "ERR!"}


def short(value: Any, limit: int = 100) -> str:
    """``value`` in one line of at most ``limit`` characters (JSON unless a string)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_request(request: dict[str, Any]) -> str:
    """A request in one line: ``GET /path?query``."""
    split = urlsplit(request["url"])
    target = split.path or "/"
    query = request.get("query")
    if query:
        target += "?" + "&".join(f"{k}={v}" for k, v in query.items() if v is not None)
    return f"{request['method']} {target}"


def ms(value: float) -> str:
    """A duration in milliseconds, as people read it: ``840 ms``, ``2.5 s``."""
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.1f} s"


def omitted(counts: dict[str, int]) -> str:
    """A loop's iterations not kept in its report, in words: ``9,980 iterations (9,980
    passed)``."""
    total = sum(counts.values())
    parts = ", ".join(f"{n:,} {status}" for status, n in sorted(counts.items()))
    return f"{total:,} iteration{'s' if total != 1 else ''} ({parts})"


def step_counts(run: RunResult) -> dict[str, int]:
    """How many of the run's steps ended in each status (the four always present)."""
    out = {PASSED: 0, FAILED: 0, SKIPPED: 0, ERRORED: 0}
    for s in run.steps:
        out[s.status] = out.get(s.status, 0) + 1
    return out


def write_json(run: RunResult, path: str | Path, redactor: Redactor) -> None:
    data = redactor.redact_data(run.to_dict())
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    Path(path).write_text(redactor.redact(text) + "\n", encoding="utf-8")


def write_junit(run: RunResult, path: str | Path, redactor: Redactor) -> None:
    from xml.etree import ElementTree as ET  # for --junit only: the console imports this module

    counts = step_counts(run)
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

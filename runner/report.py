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

from runner.errors import InvalidInput
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


# where vendors put what went wrong in a JSON answer, most telling first; "message" and its
# kin only in an error answer (a success's "message" is often "OK")
_ERROR_KEYS = ("error", "errors", "error_message", "errorMessage", "error_description",
               "fault", "faultstring", "faultString")
_MESSAGE_KEYS = ("message", "detail", "reason", "description")


def vendor_words(response: dict[str, Any] | None) -> str:
    """What the vendor said went wrong, in its own words, from a recorded answer: the
    connector's reading of an error answer (``response["error"]``), else an error field of the
    JSON body, the outermost first (``{"data": {"delivered": "N", "error": "Installation of
    fail-office.exe failed"}}``); "" when the answer says nothing of the kind."""
    if not response:
        return ""
    if response.get("error"):
        return str(response["error"])
    body = response.get("body")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return ""
    status = response.get("status")
    keys = _ERROR_KEYS + (_MESSAGE_KEYS if isinstance(status, int) and status >= 400 else ())
    level: list[Any] = [body]
    for _ in range(4):  # an envelope or two deep, not a whole document
        below: list[Any] = []
        for node in level:
            if isinstance(node, dict):
                for k in keys:
                    words = _words(node.get(k))
                    if words:
                        return words
                below.extend(node.values())
            elif isinstance(node, list):
                below.extend(node[:20])
        level = below
    return ""


def failure_words(step: dict[str, Any]) -> str:
    """A failed step's vendor's words (:func:`vendor_words` of its last answer), when its
    error does not say them already; "" for a step that passed (its error answer allowed)."""
    exchanges = step.get("exchanges") or []
    if step.get("status") not in (FAILED, ERRORED) or not exchanges:
        return ""
    words = vendor_words(exchanges[-1].get("response"))
    return words if words and words not in (step.get("error") or "") else ""


def _words(value: Any) -> str:
    """An error field's words: a string as it is; the first words in a list, or in an
    object's error or message fields (inside an error, a "message" is the error's)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return next((w for w in (_words(v) for v in value[:20]) if w), "")
    if isinstance(value, dict):
        return next((w for w in (_words(value.get(k)) for k in _ERROR_KEYS + _MESSAGE_KEYS)
                     if w), "")
    return ""


def step_counts(run: RunResult) -> dict[str, int]:
    """How many of the run's steps ended in each status (the four always present)."""
    out = {PASSED: 0, FAILED: 0, SKIPPED: 0, ERRORED: 0}
    for s in run.steps:
        out[s.status] = out.get(s.status, 0) + 1
    return out


def write_file(path: str | Path, text: str) -> None:
    """``text`` to the report file ``path``, its folder made as pytest's ``--junitxml`` does
    (``--junit reports/junit.xml`` in a fresh CI checkout); a path that cannot be written is
    the user's to fix, said as such."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as e:
        raise InvalidInput(f"cannot write the report {path}: {e.strerror or e}",
                           hint="give a path in a folder you can write to") from None


def write_json(report: dict[str, Any], path: str | Path, redactor: Redactor | None = None,
               ) -> None:
    """The run's report as JSON: a live run's ``RunResult.to_dict()`` already masked, or a
    stored run's ``report`` (masked when it was recorded). ``redactor``: a last guard over the
    text, for a live run whose secrets it knows."""
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str)
    write_file(path, (redactor.redact(text) if redactor else text) + "\n")


def iso_time(ts: float) -> str:
    """A Unix time in ISO 8601, UTC, to the second: ``2026-12-02T04:51:52Z``."""
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def split_where(where: str) -> tuple[str, str]:
    """A step's ``file:line`` as (file, line); ("", "") when it has none."""
    file, _, line = where.rpartition(":")
    return (file, line) if file and line.isdigit() else ("", "")


def write_junit(report: dict[str, Any], path: str | Path, redactor: Redactor | None = None,
                ) -> None:
    """The run's report as JUnit XML: one ``testcase`` per step with its ``file`` and
    ``line`` (as pytest writes them) and its file:line in its name, where CI viewers show it;
    the suite's ``timestamp`` in ISO 8601. ``report`` and ``redactor`` as for
    :func:`write_json`."""
    from xml.etree import ElementTree as ET  # for --junit only: the console imports this module

    steps = report["steps"]
    counts = {PASSED: 0, FAILED: 0, SKIPPED: 0, ERRORED: 0}
    for s in steps:
        counts[s["status"]] = counts.get(s["status"], 0) + 1
    suite = ET.Element("testsuite", {
        "name": report["playbook"], "tests": str(len(steps)), "failures": str(counts[FAILED]),
        "errors": str(counts[ERRORED]), "skipped": str(counts[SKIPPED]),
        "time": f"{report['duration_ms'] / 1000:.3f}", "timestamp": iso_time(report["started"]),
    })
    props = ET.SubElement(suite, "properties")
    for key in ("run_id", "environment", "status"):
        ET.SubElement(props, "property", {"name": key, "value": str(report.get(key) or "")})
    for s in steps:
        name = f"{s['id']} ({s['target']})"
        attrs = {"classname": report["file"], "name": name,
                 "time": f"{s['duration_ms'] / 1000:.3f}"}
        file, line = split_where(s.get("where") or "")
        if file:
            attrs.update(name=f"{name} at {file}:{line}", file=file, line=line)
        case = ET.SubElement(suite, "testcase", attrs)
        # the vendor's words first: what CI shows of a failure is its message
        words, error, hint = failure_words(s), s.get("error"), s.get("hint")
        said = " · ".join(x for x in (words, error) if x)
        if s["status"] == FAILED:
            fail = ET.SubElement(case, "failure", {"message": said or "failed"})
            fail.text = "\n".join(x for x in (words, error, hint) if x)
        elif s["status"] == ERRORED:  # JUnit's word for "not a failed check: it broke"
            err = ET.SubElement(case, "error", {"message": said or "internal error"})
            err.text = "\n".join(x for x in (words, error, hint) if x)
        elif s["status"] == SKIPPED:
            ET.SubElement(case, "skipped", {"message": s.get("skipped_reason") or ""})
    suites = ET.Element("testsuites")
    suites.append(suite)
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")
    # XML 1.0 cannot hold most control characters: one from a server would make the file
    # unreadable to CI, so they are written escaped, as on the console
    write_file(path, printable(redactor.redact(text) if redactor else text) + "\n")

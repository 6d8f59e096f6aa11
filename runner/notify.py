"""Notifications when a run ends: the targets that apply (playbook, environment, schedule;
each URL once), the message, and sending it through apprise.

:func:`runner.launch.launch` is the one place every run passes (``runner run``, a batch's
row, a worker's or a scheduled run, a resumed one), so it calls :func:`notify_run` once the
engine is done. A notification that cannot be sent never changes the run's outcome: it is a
warning, which names the target by its file:line and scheme, never its URL.

What is sent goes through the run's redactor (secrets, and values derived from them, masked):
title ``runner: <playbook> <status>``; body: run id, playbook, environment, the failed step
with its file:line, the error (the vendor's words) and the hint.

apprise is imported only for a run that has a target to tell. Its logging is kept to this
module: its logger stops propagating (at DEBUG it logs the URLs it posts to, which hold
tokens), what it said of a call that failed goes, masked, into the warning, and the records
of the HTTP libraries under it are masked while a notification is sent.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from runner.extras import install_hint, missing
from runner.model import Playbook, Step
from runner.notify_targets import Target, url_problem
from runner.results import PASSED, RunResult
from runner.secrets import Redactor

Warn = Callable[[str], None]
Lookup = Callable[[str], str | None]


def to_stderr(line: str) -> None:
    print(f"warning: {line}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Resolved:
    """A target with its URL looked up (``url`` None: its secret is not set)."""

    target: Target
    url: str | None


def resolve(groups: Iterable[tuple[Sequence[Target], Lookup]],
            redactor: Redactor) -> list[Resolved]:
    """Every target of every group (each with the lookup of its own secrets), each URL once:
    a URL written twice keeps its first place, and is sent when any of its entries wants the
    run's status. A secret URL is registered with the run's redactor, so it is masked if it
    is ever echoed."""
    out: dict[str, list[Resolved]] = {}
    for targets, lookup in groups:
        for t in targets:
            url = t.resolve(lookup)
            if t.secret is not None and url:
                redactor.add(url)
            key = url if url is not None else f"\0{t.secret}"
            out.setdefault(key, []).append(Resolved(t, url))
    return [r for same in out.values() for r in same]


def notify_run(resolved: Sequence[Resolved], run: RunResult, playbook: Playbook | None,
               redactor: Redactor, *, warn: Warn = to_stderr) -> int:
    """Send the run's notification to each target that wants its status; how many went.
    Never raises: every problem is a warning."""
    sent = 0
    done: set[str] = set()
    for r in resolved:
        if not r.target.wants(run.status) or (r.url is not None and r.url in done):
            continue
        if r.url is None:
            secret = r.target.secret
            warn(f"{r.target.named()}: secret {secret} is not set; not sent"
                 if isinstance(secret, str) else
                 f"{r.target.named()}: its secret could not be fetched; not sent")
            continue
        done.add(r.url)
        try:
            problem = _send(r.url, *message(run, playbook, redactor), run.status)
        except Exception as e:  # never the run's outcome
            problem = f"{type(e).__name__}: {e}"
        if problem is None:
            sent += 1
        else:
            said = redactor.redact(_masked(r.url).redact(problem))  # its words, not its URL
            warn(f"{r.target.named(r.url)}: not sent: {said}")
    return sent


# -- the message -------------------------------------------------------------------------------
def message(run: RunResult, playbook: Playbook | None, redactor: Redactor) -> tuple[str, str]:
    """The title and body, masked."""
    lines = [f"run: {run.run_id}", f"playbook: {run.playbook} ({run.file})",
             f"environment: {run.environment}", f"status: {run.status}"]
    error = run.error
    if run.failed_step:
        step = _step(playbook, run.failed_step)
        where = f" at {step.location.file}:{step.location.line}" if step else ""
        lines.append(f"failed step: {run.failed_step}{where}")
        if step and error:  # the error starts with the same place: said once, on this line
            error = _without_place(error, step.location.file, step.location.line)
    if error:
        lines.append(f"error: {error}")
    if run.hint:
        lines.append(f"hint: {run.hint}")
    lines.append(f"details: runner show {run.run_id}")
    return (redactor.redact(f"runner: {run.playbook} {run.status}"),
            redactor.redact("\n".join(lines)))


def _without_place(error: str, file: str, line: int) -> str:
    """``error`` less a leading ``FILE:LINE: `` that names this file (by its name: the run's
    error may hold the path as it was typed) and line."""
    head, sep, rest = error.partition(": ")
    where, _, at = head.rpartition(":")
    if sep and at == str(line) and Path(where).name == Path(file).name:
        return rest
    return error


def _step(playbook: Playbook | None, label: str) -> Step | None:
    """The step a failure names (``step 'x'``), in the playbook or one it includes."""
    todo = [playbook] if playbook else []
    while todo:
        p = todo.pop()
        for s in (*p.steps, *p.finally_steps):
            if s.label == label:
                return s
            if s.include is not None:
                todo.append(s.include)
    return None


# -- apprise -----------------------------------------------------------------------------------
_lock = threading.Lock()
_sending: list[Redactor] = []  # the URLs being sent to now, as their pieces to mask
_quieted = False
# under apprise: requests and urllib3, whose DEBUG lines name the URL a notification posts to
# (from apprise's worker threads); while one is sent, their records are masked with its pieces
_TRANSPORT_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry",
                      "requests")


def _mask_record(record: logging.LogRecord) -> bool:
    with _lock:
        active = list(_sending)
    if active:
        text = record.getMessage()
        masked = text
        for r in active:
            masked = r.redact(masked)
        if masked != text:
            record.msg, record.args = masked, ()
    return True


def _apprise() -> Any:
    global _quieted
    with _lock:
        if not _quieted:  # before the import, which logs too
            logging.getLogger("apprise").propagate = False  # its DEBUG lines hold URLs
            for name in _TRANSPORT_LOGGERS:
                logging.getLogger(name).addFilter(_mask_record)
            _quieted = True
    import apprise

    return apprise


def _send(url: str, title: str, body: str, status: str) -> str | None:
    """Send one notification; None, or why it was not sent (may hold parts of the URL: the
    caller masks them)."""
    if missing("notify"):  # a job that never started: launch() checks it for the others
        return f"apprise is not installed: {install_hint('notify')}"
    apprise = _apprise()
    problem = url_problem(url)
    if problem:
        return f"the URL {problem}"
    client = apprise.Apprise()
    if not client.add(url):
        return "apprise refused the URL"
    kind = apprise.NotifyType.SUCCESS if status == PASSED else apprise.NotifyType.FAILURE
    pieces = _masked(url)
    with _lock:
        _sending.append(pieces)
    try:
        result = client.notify(title=title, body=body, notify_type=kind)
    finally:
        with _lock:
            _sending.remove(pieces)
    if result:
        return None
    # apprise 2 keeps what it said per call (WARNING and above); older ones only say no
    said = [e.message for e in getattr(result, "logs", lambda: ())()]
    return "; ".join(said) or "apprise could not send it"


def _masked(url: str) -> Redactor:
    """Every part of ``url`` that may be a token (a Slack URL's tokens are its host and path),
    to mask what apprise said about it."""
    parts = urlsplit(url)
    pieces = [url, parts.netloc, parts.username or "", parts.password or "",
              parts.hostname or ""]
    pieces += [unquote(p) for p in parts.path.split("/")]
    pieces += [v for _, v in parse_qsl(parts.query)]
    return Redactor(pieces)

"""How runner's own spans go to an OTLP/HTTP collector (``runner run --trace``): the SDK's
``OTLPSpanExporter`` inside an :class:`Exporter` that

- says in **one line** on stderr that the spans could not be sent, where to and why
  (``warning: the traces could not be sent to URL: Connection refused; ...``), once per
  spell of failures, instead of the SDK's warning per try and its last error;
- bounds the wait at the end (:func:`finish`): the last spans are given the
  ``OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`` / ``OTEL_EXPORTER_OTLP_TIMEOUT`` the user set, else
  :data:`EXIT_WAIT`, not the SDK's 10 s of retries; the spans still unsent then are dropped.

Imported by :func:`runner.tracing.start` only, with traces on to OTLP: it imports the SDK.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

EXIT_WAIT = 1.0  # seconds the last spans are given at the end, unless the user says
GRACE = 0.5  # then: the SDK's wait between tries ends when its exporter is shut down
TIMEOUTS = ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")
# where the SDK's exporter logs a failed try (old and new SDKs); its other loggers are left be
LOGGERS = ("opentelemetry.exporter.otlp.proto.http.trace_exporter",
           "opentelemetry.exporter.otlp.common.http")


def asked_timeout(environ: Mapping[str, str] = os.environ) -> float | None:
    """The seconds the user set for an export, as the SDK reads them (the traces' variable
    first; an empty one is unset), or None: not set, or not a number (the SDK says so)."""
    raw = next((environ[k] for k in TIMEOUTS if environ.get(k, "").strip()), None)
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def raw_endpoint(environ: Mapping[str, str] = os.environ) -> str:
    """Where the SDK sends the spans, as it works it out."""
    base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "http://localhost:4318"
    return (environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            or f"{base.removesuffix('/')}/v1/traces").strip()


def endpoint(environ: Mapping[str, str] = os.environ) -> str:
    """:func:`raw_endpoint` for a message: no user:password and no query (either may hold a
    credential)."""
    parts = urlsplit(raw_endpoint(environ))
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def masked(text: str, environ: Mapping[str, str] = os.environ) -> str:
    """``text`` (an error's, which may quote the URL) without the endpoint's user:password
    and query."""
    parts = urlsplit(raw_endpoint(environ))
    for secret in (parts.netloc.rpartition("@")[0], parts.query):
        if secret:
            text = text.replace(secret, "***")
    return text


class Exporter(SpanExporter):
    """The SDK's exporter, its failures said once in a line of runner's."""

    def __init__(self) -> None:
        self.inner = OTLPSpanExporter()
        self.where = endpoint()
        self.records: list[logging.LogRecord] = []  # what the SDK logged in this export
        self.exporting: int | None = None  # the thread in export()
        self.failing = False  # in a spell of failed exports, said already
        self.given_up = False
        self.said = threading.Lock()
        self.quiet = _Quiet(self)
        for name in LOGGERS:
            logging.getLogger(name).addFilter(self.quiet)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.records, self.exporting = [], threading.get_ident()
        error: BaseException | None = None
        try:
            result = self.inner.export(spans)
        except Exception as e:  # not the SDK's traceback: the line below says it
            result, error = SpanExportResult.FAILURE, e
        finally:
            self.exporting = None
        if result is SpanExportResult.SUCCESS:
            self.failing = False
        else:
            self.say(why(self.records, error))
        return result

    def say(self, reason: str) -> None:
        """The one line, unless this spell of failures said it already."""
        with self.said:
            if self.failing:
                return
            self.failing = True
        print(f"warning: the traces could not be sent to {self.where}: {masked(reason)}; the "
              "spans are dropped (the run is not changed)", file=sys.stderr, flush=True)

    def give_up(self) -> None:
        """Stop trying: the SDK's wait between tries ends (the SDKs of 2025 on; an older
        one sleeps on in its thread, which the process does not wait for)."""
        with self.said:
            done, self.given_up = self.given_up, True
        if not done:  # once: a second shutdown is a warning of the SDK's
            self.inner.shutdown()  # type: ignore[no-untyped-call]

    def shutdown(self) -> None:
        self.give_up()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True  # nothing is held here: the processor holds the spans

    def quiet_now(self) -> None:
        for name in LOGGERS:
            logging.getLogger(name).removeFilter(self.quiet)


class _Quiet(logging.Filter):
    """Keeps what the SDK logs during one of the exporter's exports (for :func:`why`) off
    stderr; what it logs at other times (a bad variable) passes."""

    def __init__(self, exporter: Exporter) -> None:
        super().__init__()
        self.exporter = exporter

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread != self.exporter.exporting:
            return True
        self.exporter.records.append(record)
        return False


def finish(provider: Any, exporter: Exporter, environ: Mapping[str, str] = os.environ) -> None:
    """Shut runner's provider down: its last spans are sent in a thread of their own, given
    the user's timeout or :data:`EXIT_WAIT`; then the exporter gives up, and the line says
    so when the export had not said it yet."""
    limit = asked_timeout(environ)
    wait = EXIT_WAIT if limit is None else limit
    atexit.unregister(provider.shutdown)  # this is its shutdown: none again at the exit
    sender = threading.Thread(target=provider.shutdown, name="runner-traces-send", daemon=True)
    sender.start()
    sender.join(wait)
    if sender.is_alive():
        exporter.give_up()
        sender.join(GRACE)
    if sender.is_alive():  # an old SDK still sleeping between tries: the process goes on
        exporter.say(why(list(exporter.records), None) if exporter.records
                     else f"no answer in {wait:g} s")
    else:
        exporter.quiet_now()


def why(records: Sequence[logging.LogRecord], error: BaseException | None) -> str:
    """What went wrong, short, from what the SDK logged (or raised): the system's reason
    (``Connection refused``, ``Name or service not known``), the collector's answer, or the
    SDK's last line."""
    errors = [e for r in records for e in _errors(r)] + ([error] if error else [])
    for e in _chain(errors):
        if isinstance(e, OSError) and e.strerror:
            return str(e.strerror)
    for e in _chain(errors):
        if isinstance(e, TimeoutError) or "Timeout" in type(e).__name__:
            return "no answer in time"
    for record in records:
        args = _args(record)
        at = next((i for i, a in enumerate(args) if isinstance(a, int) and 100 <= a <= 599),
                  None)
        if at is not None:
            phrase = args[at + 1] if at + 1 < len(args) and isinstance(args[at + 1], str) else ""
            return f"the collector answered {args[at]} {phrase}".strip()
    if error is not None:
        return f"{type(error).__name__}: {error}"[:200]
    if records:
        return records[-1].getMessage().splitlines()[0][:200]
    return "the exporter failed"


def _args(record: logging.LogRecord) -> tuple[Any, ...]:
    args = record.args
    return args if isinstance(args, tuple) else ()


def _errors(record: logging.LogRecord) -> list[BaseException]:
    found = [a for a in _args(record) if isinstance(a, BaseException)]
    if record.exc_info and record.exc_info[1] is not None:
        found.append(record.exc_info[1])
    return found


def _chain(errors: list[BaseException]) -> Iterator[BaseException]:
    """Each error and those inside it (its cause, context, arguments, a urllib3 reason)."""
    seen: set[int] = set()
    stack = list(reversed(errors))
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        inner = [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
        stack.extend(x for x in reversed(inner) if isinstance(x, BaseException))

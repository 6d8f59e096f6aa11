"""OpenTelemetry traces of runs, opt-in: a span per run, step, attempt of a call and HTTP
exchange, every attribute through the run's :class:`~runner.secrets.Redactor`.

The only module that imports ``opentelemetry`` (with :mod:`runner.trace_export`, the OTLP
exporter, which it imports), and only in :func:`start`: with traces off
(the default) the hooks find ``_tracer`` None and return at once; nothing is imported, no
span object is made. Traces are on for a process once :func:`switch_on` (``runner run
--trace``, ``RUNNER_TRACES``) or :func:`start` (a library caller's own provider) ran.

The spans nest through OpenTelemetry's context (a ``contextvars`` value): the run's span is
current while its steps run, a step's while its calls go, an attempt's while its exchanges
go. A loop's concurrent iterations carry it into their threads (``runner.run_loop``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from runner.errors import InvalidInput
from runner.results import ERRORED, FAILED, PASSED, RunResult, StepResult
from runner.secrets import Redactor

ENV = "RUNNER_TRACES"  # otlp | console | off
PROPAGATE_ENV = "RUNNER_TRACES_PROPAGATE"  # 1: send W3C traceparent to the vendors
MODES = ("otlp", "console")
OFF = ("", "0", "off", "false", "no", "none")

R = TypeVar("R")

_tracer: Any = None  # an opentelemetry Tracer while traces are on; None: off, nothing imported
_provider: Any = None
_owned = False  # the provider is runner's own (start made it): stop shuts it down
_exporter: Any = None  # runner's OTLP exporter (runner.trace_export.Exporter), when it sends
_propagate = False


def mode_asked(trace: bool | str | None = None,
               environ: Mapping[str, str] = os.environ) -> str | None:
    """The exporter asked for, or None for no traces. ``trace``: True (``--trace``), a mode,
    False (off whatever the environment says) or None (``RUNNER_TRACES`` decides). The
    OTEL_* variables alone switch nothing on: they configure the exporter once it is on."""
    if trace is False:
        return None
    value = (trace if isinstance(trace, str) else environ.get(ENV, "")).strip().lower()
    if value in MODES:
        return value
    if value in OFF:
        return "otlp" if trace is True else None
    raise InvalidInput(f"{ENV}={value!r} is not a way to export traces",
                       hint=f"set {ENV} to otlp (an OTLP/HTTP collector), console (stderr) "
                       "or off")


def switch_on(trace: bool | str | None = None) -> bool:
    """Start traces for this process when asked (:func:`mode_asked`) and not on yet; True
    when this call started them (then its caller :func:`stop`-s them: the spans are sent)."""
    mode = mode_asked(trace)
    if mode is None or _tracer is not None:
        return False
    start(mode)
    return True


def start(mode: str = "otlp", *, provider: Any = None) -> None:
    """Traces on: spans go to an OTLP/HTTP collector (the standard ``OTEL_EXPORTER_OTLP_*``
    variables say where), to stderr (``console``), or to a caller's own ``provider`` (an
    opentelemetry ``TracerProvider``: a test's in-memory exporter, an app's set-up)."""
    global _tracer, _provider, _owned, _propagate, _exporter
    from runner.extras import absent, need

    need("traces", "traces (--trace, RUNNER_TRACES)")
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            ConsoleSpanExporter,
            SimpleSpanProcessor,
        )
    except ImportError as e:
        raise absent("traces", "traces (--trace, RUNNER_TRACES)", e) from None
    from runner import __version__

    _owned, _exporter = provider is None, None
    if provider is None:
        resource = Resource.create({"service.version": __version__})
        if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
            # OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES name it; else runner does
            resource = resource.merge(Resource({"service.name": "runner"}))
        provider = TracerProvider(resource=resource)
        if mode == "console":
            provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
        else:
            try:
                from runner.trace_export import Exporter
            except ImportError as e:
                raise absent("traces", "traces to OTLP", e) from None
            _exporter = Exporter()  # a collector not there: one line, a short wait at the end
            provider.add_span_processor(BatchSpanProcessor(_exporter))
    _provider = provider
    _propagate = os.environ.get(PROPAGATE_ENV, "").strip().lower() not in OFF
    _tracer = provider.get_tracer("runner", __version__)


def stop() -> None:
    """Send the spans still held and turn traces off; a provider of runner's own is shut
    down, a caller's is only flushed (it is still the caller's). To OTLP the last spans get
    about a second (or the user's ``OTEL_EXPORTER_OTLP_TIMEOUT``), not the SDK's 10 s of
    retries, and a collector not there is one line on stderr (:mod:`runner.trace_export`)."""
    global _tracer, _provider, _exporter
    provider, exporter, _tracer, _provider, _exporter = _provider, _exporter, None, None, None
    if exporter is not None:  # to OTLP: a wait bounded, a collector not there said in a line
        from runner.trace_export import finish

        finish(provider, exporter)
    elif provider is not None:
        provider.force_flush()
        if _owned:
            provider.shutdown()


def on() -> bool:
    return _tracer is not None


class Open:
    """A started span, current in this thread until :meth:`end`."""

    def __init__(self, name: str, redactor: Redactor, attributes: Mapping[str, Any],
                 client: bool = False) -> None:
        from opentelemetry import context, trace

        self.redactor = redactor
        kind = trace.SpanKind.CLIENT if client else trace.SpanKind.INTERNAL
        self.span = _tracer.start_span(redactor.redact(name), kind=kind,
                                       attributes=self.clean(attributes))
        self._token = context.attach(trace.set_span_in_context(self.span))

    def clean(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """The attributes with every text redacted and the empty ones left out."""
        return {k: self.redactor.redact(v) if isinstance(v, str) else v
                for k, v in attributes.items() if v is not None and v != ""}

    def set(self, **attributes: Any) -> None:
        self.span.set_attributes(self.clean({k.replace("__", "."): v
                                             for k, v in attributes.items()}))

    def failed(self, message: str | None, kind: str = "") -> None:
        """Status ERROR with the message, redacted; ``kind``: an exception's class name."""
        from opentelemetry.trace import Status, StatusCode

        text = self.redactor.redact(message or "failed")
        self.span.set_status(Status(StatusCode.ERROR, text))
        if kind:  # an exception event as the SDK writes one, without its traceback
            self.span.add_event("exception", {"exception.type": kind, "exception.message": text})

    def end(self) -> None:
        from opentelemetry import context

        self.span.end()
        context.detach(self._token)

    # -- as a ``with`` around an attempt or an exchange ------------------------------------
    def __enter__(self) -> Open:
        return self

    def __exit__(self, kind: Any, error: BaseException | None, tb: Any) -> None:
        if error is not None:  # no answer (a TransportError), Ctrl-C: the span says which
            self.set(error__type=kind.__name__)
            self.failed(getattr(error, "message", None) or str(error) or kind.__name__,
                        kind.__name__)
        self.end()

    def answered(self, response: R) -> R:
        """Note an answer (status, size, the vendor's error); hands it back."""
        got: Any = response
        self.set(http__response__status_code=got.status_code,
                 http__response__body__size=got.size)
        if got.error:
            if got.status_code >= 400:
                self.set(error__type=str(got.status_code))
            self.failed(got.error)
        return response


class _Off:
    """What the hooks hand back with traces off: a ``with`` that does nothing."""

    def __enter__(self) -> _Off:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def answered(self, response: R) -> R:
        return response


OFF_SPAN = _Off()


# -- the hooks: each returns at once when traces are off ----------------------------------
def run_started(run: RunResult, redactor: Redactor) -> Open | None:
    if _tracer is None:
        return None
    return Open(f"run {run.playbook}", redactor, {
        "runner.run.id": run.run_id, "runner.playbook": run.playbook,
        "runner.playbook.file": run.file, "runner.environment": run.environment})


def run_finished(span: Open | None, run: RunResult) -> None:
    if span is None:
        return
    span.set(runner__run__status=run.status, runner__run__steps=len(run.steps),
             runner__run__failed_step=run.failed_step)
    if run.status != PASSED:
        span.failed(run.error or run.status)
    span.end()


def step_started(result: StepResult, iteration: int | None, redactor: Redactor) -> Open | None:
    if _tracer is None:
        return None
    file, _, line = result.where.rpartition(":")
    return Open(f"step {result.trail}", redactor, {  # "software[1] > wait" in a loop, an include
                    "runner.step.id": result.step_id, "runner.step.name": result.name,
                    "runner.step.kind": result.kind, "runner.step.target": result.target,
                    "runner.step.iteration": iteration, "runner.step.where": result.where,
                    "code.file.path": file,
                    "code.line.number": int(line) if line.isdigit() else None})


def step_finished(span: Open | None, result: StepResult) -> None:
    if span is None:
        return
    span.set(runner__step__status=result.status,
             runner__step__attempts=result.attempts or None,
             runner__step__skipped_reason=result.skipped_reason)
    if result.status in (FAILED, ERRORED):
        span.failed(result.error or result.status)
    span.end()


def attempt(call: Any, number: int, redactor: Redactor) -> Open | _Off:
    """The span of try ``number`` of ``call`` (a ``PreparedCall``): its exchanges (a login,
    a renewal) are its children; the wait before the next try is in none."""
    if _tracer is None:
        return OFF_SPAN
    return Open(f"{call.target} attempt {number}", redactor, {
        "runner.attempt": number, "runner.vendor": call.connector,
        "runner.operation": call.operation, "http.request.resend_count": number - 1 or None})


def exchange(call: Any, redactor: Redactor) -> Open | _Off:
    """The span of one HTTP request and its answer (CLIENT, ``http.*`` names)."""
    if _tracer is None:
        return OFF_SPAN
    from urllib.parse import urlencode, urlsplit

    record = call.record(redactor.redact)
    query = {k: v for k, v in (record.get("query") or {}).items() if v is not None}
    url = f"{record['url']}?{urlencode(query, doseq=True)}" if query else record["url"]
    parts = urlsplit(call.url)
    body, _ = call.encoded_body() if call.method not in ("GET", "HEAD") else (None, None)
    span = Open(f"{call.method} {call.target}", redactor, {
        "http.request.method": call.method, "url.full": url, "server.address": parts.hostname,
        "server.port": parts.port, "runner.vendor": call.connector,
        "runner.operation": call.operation,
        "http.request.body.size": len(body) if body is not None else None}, client=True)
    if _propagate:  # W3C traceparent, asked for: the vendor's own traces may join this one
        from opentelemetry.propagate import inject

        inject(call.headers)
    return span


@contextmanager
def session(trace: bool | str | None = None) -> Iterator[None]:
    """Traces on inside, when asked (:func:`switch_on`); the spans are sent on the way out
    by whoever switched them on (a batch's runs share its session)."""
    started = switch_on(trace)
    try:
        yield
    finally:
        if started:
            stop()

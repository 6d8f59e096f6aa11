"""Traces in this process, collected by the SDK's in-memory exporter: a sandbox run whose
first read answers 503 once, with a secret input in a query and a concurrent loop. The spans
nest run > step > attempt > exchange, carry what the issue asks, and hold no secret."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, run_playbook

# the dev extra has the SDK: without it these tests fail (they do not skip)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from runner import tracing
from runner.errors import InvalidInput
from runner.sandbox import Sandbox

HOSTNAME = "NTB2"  # a secret input here: it goes in get_machine's query string
PLAYBOOK = """\
name: Traced distribution
inputs:
  hostname: {type: string, secret: true}
connectors:
  automatos: {use: automatos}
steps:
  - id: machine
    call: automatos.get_machine
    with: {hostname: "{{ inputs.hostname }}"}
    extract: {machine_id: "$.data.machines[0].machineId"}
  - id: again
    loop: [1, 2, 3]
    concurrency: 3
    call: automatos.get_machine
    with: {hostname: "{{ inputs.hostname }}"}
  - id: job
    call: automatos.create_distribution
    with: {machineId: "{{ machine_id }}", package: 7zip.exe}
"""
FAST = {"schedule_seconds": 0.1, "run_seconds": 0.1}


@pytest.fixture()
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.start(provider=provider)
    try:
        yield exporter
    finally:
        tracing.stop()


def _run(tmp_path: Path, faults: dict[str, Any]) -> tuple[Any, Sandbox]:
    pb = tmp_path / "traced.yaml"
    pb.write_text(PLAYBOOK)
    box = Sandbox({"automatos": {**FAST, "faults": faults}})
    try:
        out = run_playbook(pb, tmp_path, inputs={"hostname": HOSTNAME}, sandbox=box)
    finally:
        box.stop()
    return out, box


def _tree(finished: tuple[ReadableSpan, ...]) -> dict[int, ReadableSpan]:
    return {s.context.span_id: s for s in finished}


def _children(all_: tuple[ReadableSpan, ...], parent: ReadableSpan) -> list[ReadableSpan]:
    return sorted((s for s in all_ if s.parent is not None
                   and s.parent.span_id == parent.context.span_id),
                  key=lambda s: s.start_time or 0)


def _everything(span: ReadableSpan) -> str:
    """All a backend would get of a span: name, attributes, events, status."""
    return json.dumps({"name": span.name, "attributes": dict(span.attributes or {}),
                       "events": [(e.name, dict(e.attributes or {})) for e in span.events],
                       "status": span.status.description}, default=str)


def test_a_run_traces_its_steps_attempts_and_exchanges(tmp_path: Path,
                                                       spans: InMemorySpanExporter) -> None:
    out, box = _run(tmp_path, {"error_5xx": 1.0, "only": {"get_machine"}, "count": 1})
    assert out.result.status == "passed", out.console
    finished = spans.get_finished_spans()

    roots = [s for s in finished if s.parent is None]
    assert [r.name for r in roots] == ["run Traced distribution"]
    run = roots[0]
    assert run.attributes is not None
    assert run.attributes["runner.run.id"] == out.result.run_id
    assert run.attributes["runner.run.status"] == "passed"
    assert str(run.attributes["runner.playbook.file"]).endswith("traced.yaml")
    assert {s.context.trace_id for s in finished} == {run.context.trace_id}  # one trace

    steps = _children(finished, run)
    assert [s.name for s in steps] == ["step machine", "step again", "step job"]
    machine, again, job = steps
    assert machine.attributes is not None
    assert machine.attributes["runner.step.kind"] == "call"
    assert machine.attributes["code.line.number"] == 7
    assert machine.attributes["runner.step.where"] == f"{tmp_path / 'traced.yaml'}:7"

    # the 503 and the retry: two attempts, each with its exchange
    attempts = [s for s in _children(finished, machine) if "attempt" in s.name]
    assert [(a.attributes or {}).get("runner.attempt") for a in attempts] == [1, 2]
    first, second = ([x for x in _children(finished, a) if x.kind == SpanKind.CLIENT]
                     for a in attempts)
    assert [(x.attributes or {})["http.response.status_code"] for x in first + second] == \
        [503, 200]
    assert first[0].status.status_code == StatusCode.ERROR
    assert attempts[0].status.status_code == StatusCode.ERROR
    assert second[0].status.status_code == StatusCode.UNSET
    call = dict(second[0].attributes or {})
    assert call["http.request.method"] == "GET"
    assert call["runner.vendor"] == "automatos" and call["runner.operation"] == "get_machine"
    assert str(call["url.full"]).startswith("http://127.0.0.1:")
    assert str(call["url.full"]).endswith("/api/machine?hostname=***")
    assert isinstance(call["http.response.body.size"], int)
    # the login the first attempt needed is an exchange of that attempt, its own attempt
    logins = [s for s in _children(finished, attempts[0]) if s.kind == SpanKind.INTERNAL]
    assert [s.name for s in logins] == ["automatos.auth attempt 1"]

    # a concurrent loop: each iteration, in its own thread, is a child of the loop's step
    assert sorted(s.name for s in _children(finished, again)) == \
        ["step again[0]", "step again[1]", "step again[2]"]
    assert len(_children(finished, job)) == 1

    secrets = [HOSTNAME, *box.simulators["automatos"].secret_values()]
    for span in finished:
        text = _everything(span)
        for value in secrets:
            assert value not in text, (span.name, value)


def test_a_failed_step_and_run_are_errors_with_the_redacted_message(
        tmp_path: Path, spans: InMemorySpanExporter) -> None:
    # a 503 on the create is not retried (it does not prove the create was not applied)
    out, _ = _run(tmp_path, {"error_5xx": 1.0, "only": {"create_distribution"}, "count": 1})
    assert out.result.status == "failed"
    finished = spans.get_finished_spans()
    by_name = {s.name: s for s in finished}
    for name in ("run Traced distribution", "step job"):
        assert by_name[name].status.status_code == StatusCode.ERROR
        assert "HTTP 503" in (by_name[name].status.description or "")
    assert (by_name["step job"].attributes or {})["runner.step.status"] == "failed"
    assert (by_name["run Traced distribution"].attributes or {})["runner.run.failed_step"]
    creates = [s for s in finished if s.name == "POST automatos.create_distribution"]
    assert len(creates) == 1 and (creates[0].attributes or {})["error.type"] == "503"
    for span in finished:
        assert HOSTNAME not in _everything(span)


def test_no_answer_is_an_error_span_with_the_transport_message(
        tmp_path: Path, spans: InMemorySpanExporter) -> None:
    out, _ = _run(tmp_path, {"drop_after": 1.0, "only": {"create_distribution"}, "count": 1})
    assert out.result.status == "failed"
    create = next(s for s in spans.get_finished_spans()
                  if s.name == "POST automatos.create_distribution")
    assert create.status.status_code == StatusCode.ERROR
    assert (create.attributes or {})["error.type"] == "TransportError"
    assert [e.name for e in create.events] == ["exception"]
    assert "http.response.status_code" not in (create.attributes or {})


def test_traceparent_goes_to_the_vendor_only_when_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for asked in ("", "1"):
        monkeypatch.setenv(tracing.PROPAGATE_ENV, asked)
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracing.start(provider=provider)
        try:
            out, _ = _run(tmp_path, {})
        finally:
            tracing.stop()
        sent = [e.request.get("headers", {}).get("traceparent")
                for s in out.result.steps for e in s.exchanges]
        if not asked:
            assert sent and not any(sent)
            continue
        assert all(sent), sent
        # the header names the exchange's own span, in the run's trace
        exchanges = {format(s.context.span_id, "016x"): s
                     for s in exporter.get_finished_spans() if s.kind == SpanKind.CLIENT}
        version, trace_id, span_id, _flags = str(sent[0]).split("-")
        assert version == "00" and span_id in exchanges
        assert int(trace_id, 16) == exchanges[span_id].context.trace_id


def test_what_switches_traces_on() -> None:
    assert tracing.mode_asked(None, {}) is None
    # the exporter's own variables configure it; alone they switch nothing on
    assert tracing.mode_asked(None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318"}) is None
    assert tracing.mode_asked(True, {}) == "otlp"
    assert tracing.mode_asked(True, {"RUNNER_TRACES": "console"}) == "console"
    assert tracing.mode_asked(None, {"RUNNER_TRACES": "otlp"}) == "otlp"
    assert tracing.mode_asked(None, {"RUNNER_TRACES": "off"}) is None
    assert tracing.mode_asked(False, {"RUNNER_TRACES": "otlp"}) is None
    with pytest.raises(InvalidInput) as e:
        tracing.mode_asked(None, {"RUNNER_TRACES": "jaeger"})
    assert "RUNNER_TRACES" in e.value.message and "otlp" in (e.value.hint or "")


def test_without_the_sdk_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)  # import fails
    with pytest.raises(InvalidInput) as e:
        tracing.switch_on(True)
    assert "runner[traces]" in (e.value.hint or "")
    assert not tracing.on()


def test_console_traces_go_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pb = ROOT / "tests" / "playbooks" / "automatos" / "short-timeouts.yaml"
    with tracing.session("console"):
        assert tracing.on()
        box = Sandbox({"automatos": dict(FAST)})
        try:
            run_playbook(pb, tmp_path, sandbox=box)
        finally:
            box.stop()
    assert not tracing.on()
    err = capsys.readouterr().err
    assert '"name": "run Distribute with short timeouts"' in err
    assert box.simulators["automatos"].automatos_key not in err


def test_a_run_that_raises_still_ends_its_span_and_leaves_no_context(
        tmp_path: Path, spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry import trace

    from runner import api

    monkeypatch.delenv("TRACES_TEST_KEY", raising=False)
    env = tmp_path / "lab.yaml"
    env.write_text("connectors:\n  automatos:\n    base_url: http://127.0.0.1:9\n"
                   "    automatos_id: '1'\n    automatos_key: {secret: TRACES_TEST_KEY}\n")
    pb = tmp_path / "traced.yaml"
    pb.write_text(PLAYBOOK)
    with pytest.raises(InvalidInput, match="TRACES_TEST_KEY"):  # the secret is missing
        api.run(pb, env=str(env), inputs={"hostname": HOSTNAME}, quiet=True, store=False)
    roots = [s for s in spans.get_finished_spans() if s.parent is None]
    assert [r.name for r in roots] == ["run Traced distribution"]
    assert roots[0].status.status_code == StatusCode.ERROR
    assert "TRACES_TEST_KEY" in (roots[0].status.description or "")
    # nothing of the run is current any more: the next run's trace is a trace of its own
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_each_row_of_a_batch_is_a_trace_of_its_own(tmp_path: Path,
                                                   spans: InMemorySpanExporter) -> None:
    from runner import api

    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(f'{{"hostname": "NTB{i}"}}\n' for i in (1, 2, 1)))
    summary = api.run_batch(ROOT / "tests" / "playbooks" / "automatos" / "short-timeouts.yaml",
                            inputs_from=rows, concurrency=3, store=str(tmp_path / "runs.db"))
    assert summary.passed == 3, summary.failures
    finished = spans.get_finished_spans()
    roots = [s for s in finished if s.parent is None]
    assert len(roots) == 3 and len({r.context.trace_id for r in roots}) == 3
    for span in finished:  # every span is in one of the rows' traces, under its run
        assert span.context.trace_id in {r.context.trace_id for r in roots}

"""runner.trace_export's small parts, on their own: the timeout the user set (as the SDK reads
it), the collector's URL as a message shows it, and the reason a failed export is given."""

from __future__ import annotations

import logging

from runner.trace_export import asked_timeout, endpoint, masked, why


def test_the_traces_timeout_wins_and_an_empty_one_is_unset() -> None:
    assert asked_timeout({}) is None
    assert asked_timeout({"OTEL_EXPORTER_OTLP_TIMEOUT": "4"}) == 4.0
    assert asked_timeout({"OTEL_EXPORTER_OTLP_TIMEOUT": "4",
                          "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "0.5"}) == 0.5
    assert asked_timeout({"OTEL_EXPORTER_OTLP_TIMEOUT": "4",
                          "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": ""}) == 4.0
    assert asked_timeout({"OTEL_EXPORTER_OTLP_TIMEOUT": "soon"}) is None  # the SDK says so


def test_the_url_is_the_sdks_without_credentials() -> None:
    assert endpoint({}) == "http://localhost:4318/v1/traces"
    assert endpoint({"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c.example:4318/"}) == \
        "https://c.example:4318/v1/traces"
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c.example:4318",
           "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://bob:pw-Q7x@t.example/in?key=k-Z9q"}
    assert endpoint(env) == "https://t.example/in"
    said = masked("HTTPSConnectionPool: url /in?key=k-Z9q as bob:pw-Q7x", env)
    assert "k-Z9q" not in said and "pw-Q7x" not in said


def _record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("x", logging.WARNING, __file__, 1, msg, args, None)


def test_the_reason_is_the_systems_or_the_collectors() -> None:
    refused = ConnectionRefusedError(111, "Connection refused")
    wrapped = RuntimeError("Max retries exceeded")  # as requests wraps urllib3's wrapping
    wrapped.__cause__ = refused
    assert why([_record("Transient error %s encountered", OSError(wrapped))], None) == \
        "Connection refused"
    too_big = _record("Failed to export %s batch code: %s, reason: %s", "spans", 413,
                      "Payload Too Large")
    assert why([too_big], None) == "the collector answered 413 Payload Too Large"
    assert why([], TimeoutError()) == "no answer in time"
    assert why([], ValueError("odd")) == "ValueError: odd"
    assert why([_record("Failed to export batch: %s", "something else")], None) == \
        "Failed to export batch: something else"

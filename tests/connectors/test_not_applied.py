"""Which answers prove a request not safe to repeat was not applied: the default rule, the
connector's and an operation's `not_applied`, and the retry policy agreeing with them over real
HTTP against the Automatos simulator."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner.connectors import registry
from runner.connectors.client import ConnectorClient
from runner.connectors.loading import load_connector
from runner.connectors.outcome import APPLIED, NOT_APPLIED, UNKNOWN, NotApplied
from runner.connectors.response import Response
from runner.connectors.retry import RetryPolicy
from runner.errors import PlaybookError
from runner.secrets import Redactor
from runner.simulator_faults import Faults


def answer(status: int, error: str | None) -> Response:
    return Response(status, {}, b"", error=error)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 429, 499])
def test_by_default_a_4xx_proves_not_applied(status: int) -> None:
    assert NotApplied().proves(status)
    assert NotApplied().outcome(answer(status, "refused")) == NOT_APPLIED


@pytest.mark.parametrize("status", [408, 300, 302, 399, 500, 502, 503, 504, 599])
def test_by_default_408_3xx_and_5xx_prove_nothing(status: int) -> None:
    assert not NotApplied().proves(status)
    assert NotApplied().outcome(answer(status, "gateway")) == UNKNOWN


def test_a_success_is_applied_and_a_vendor_error_in_a_2xx_is_not_applied_by_default() -> None:
    assert NotApplied().outcome(answer(200, None)) == APPLIED
    assert NotApplied().outcome(answer(504, None)) == APPLIED  # an operation's `success`
    assert NotApplied().outcome(answer(200, "status: false")) == NOT_APPLIED
    assert NotApplied().outcome(answer(299, "status: false")) == NOT_APPLIED
    assert NotApplied(vendor_errors=False).outcome(answer(200, "status: false")) == UNKNOWN
    assert NotApplied(vendor_errors=False).outcome(answer(400, "no")) == NOT_APPLIED


def test_from_conf_list_mapping_and_inheritance() -> None:
    base = NotApplied(frozenset({409}), vendor_errors=False)
    assert NotApplied.from_conf(None) == NotApplied()
    assert NotApplied.from_conf(None, base) is base
    assert NotApplied.from_conf([400, "503"]) == NotApplied(frozenset({400, 503}), True)
    assert NotApplied.from_conf([503], base) == NotApplied(frozenset({503}), False)
    assert NotApplied.from_conf({"vendor_errors": True}, base) == NotApplied(frozenset({409}),
                                                                             True)
    assert NotApplied.from_conf({"statuses": [422]}, base) == NotApplied(frozenset({422}), False)
    listed = NotApplied(frozenset({409, 503}))
    assert listed.proves(503) and listed.proves(409)
    assert not listed.proves(400)  # a list replaces the default: only what it names


CONNECTOR = """\
name: gw
settings: {base_url: {required: true}}
not_applied: {statuses: [400, 409], vendor_errors: false}
operations:
  create: {method: POST, path: /things, not_applied: [503]}
  other: {method: POST, path: /others}
"""


def test_connector_and_operation_rules_load(tmp_path: Path) -> None:
    path = tmp_path / "connector.yaml"
    path.write_text(CONNECTOR)
    spec = load_connector(path)
    assert spec.not_applied == NotApplied(frozenset({400, 409}), False)
    assert spec.operations["create"].not_applied == NotApplied(frozenset({503}), False)
    assert spec.operations["other"].not_applied is None
    client = ConnectorClient("gw", spec, {"base_url": "http://127.0.0.1:9"}, Redactor())
    try:
        assert client.not_applied(client.prepare("create", {})).statuses == {503}
        assert client.not_applied(client.prepare("other", {})).statuses == {400, 409}
        assert client.not_applied(client.prepare_raw("POST", "/x")).statuses == {400, 409}
    finally:
        client.close()


@pytest.mark.parametrize("bad", ["not_applied: [abc]", "not_applied: {status: [503]}",
                                 "not_applied: [99]", "not_applied: 503"])
def test_a_wrong_not_applied_is_refused_with_its_location(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "connector.yaml"
    path.write_text(CONNECTOR.replace("not_applied: {statuses: [400, 409], vendor_errors: false}",
                                      bad))
    with pytest.raises(PlaybookError) as caught:
        load_connector(path)
    assert "connector.yaml:3" in caught.value.render()


def test_unsafe_calls_retry_only_on_answers_that_prove_not_applied() -> None:
    policy = RetryPolicy()
    assert policy.retry_status(429, safe=False)
    for status in (502, 503, 504):
        assert not policy.retry_status(status, safe=False)
        assert policy.retry_status(status, safe=True)
        assert policy.retry_status(status, safe=False, not_applied=NotApplied(frozenset({status})))
    assert not policy.retry_status(429, safe=False, not_applied=NotApplied(frozenset({503})))
    assert not policy.retry_status(409, safe=False)  # not applied, but not in `statuses`
    assert RetryPolicy(unsafe=True).retry_status(504, safe=False)


def _create_with(spec_not_applied: NotApplied | None) -> tuple[int, int]:
    """Send one create through a real client against a simulator that answers it 503 once
    (before acting); the (creates the simulator counted, status the client got)."""
    spec = registry.get("automatos")
    if spec_not_applied is not None:
        spec = dataclasses.replace(spec, not_applied=spec_not_applied)
    with AutomatosSimulator() as sim:
        sim.faults = Faults(error_5xx=1.0, status_5xx=503, only={"create_distribution"},
                            count=1)
        client = ConnectorClient("automatos", spec, sim.connector_settings(), Redactor())
        try:
            call = client.prepare("create_distribution",
                                  {"machineId": sim.machines[0]["machineId"],
                                   "package": "7zip.exe"})
            response = client.send(call, sleep=lambda _s: None)
        finally:
            client.close()
        return sim.calls["create_distribution"], response.status_code


def test_a_create_answered_503_is_not_retried_unless_the_connector_lists_503() -> None:
    assert _create_with(None) == (0, 503)  # the vendor was never reached, but who can tell
    assert _create_with(NotApplied(frozenset({503}))) == (1, 200)  # retried once, created

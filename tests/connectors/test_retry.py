"""The retry policy's decisions, exactly: what a `retry:` mapping sets, which answers and
failures are tried again for a safe call and for one that is not safe to repeat, and how long
to wait (backoff with full jitter, Retry-After in seconds or as an HTTP date, both capped)."""

from __future__ import annotations

import random
import time
from email.utils import formatdate

import pytest

from runner.connectors.retry import RetryPolicy

DEFAULT = RetryPolicy()


def test_the_default_policy() -> None:
    assert (DEFAULT.attempts, DEFAULT.backoff, DEFAULT.max_delay, DEFAULT.unsafe) == \
        (3, 0.5, 30.0, False)
    assert frozenset({429, 502, 503, 504}) <= DEFAULT.statuses


@pytest.mark.parametrize(("conf", "changed"), [
    ({"attempts": 5}, {"attempts": 5}),
    ({"backoff": 2.0}, {"backoff": 2.0}),
    ({"max_delay": 4}, {"max_delay": 4}),
    ({"unsafe": True}, {"unsafe": True}),
    ({"statuses": [500, "418"]}, {"statuses": frozenset({500, 418})}),
    ({"attempts": 2, "unsafe": True, "statuses": [429]},
     {"attempts": 2, "unsafe": True, "statuses": frozenset({429})}),
])
def test_each_key_of_a_retry_mapping_sets_that_setting_only(conf: dict, changed: dict) -> None:
    policy = RetryPolicy.from_conf(conf)
    for name in ("attempts", "backoff", "max_delay", "unsafe", "statuses"):
        assert getattr(policy, name) == changed.get(name, getattr(DEFAULT, name)), name


def test_a_step_overrides_the_connector_policy_key_by_key() -> None:
    connector = RetryPolicy.from_conf({"attempts": 6, "backoff": 0.1, "statuses": [503]})
    step = RetryPolicy.from_conf({"unsafe": True}, connector)
    assert (step.attempts, step.backoff, step.statuses, step.unsafe) == \
        (6, 0.1, frozenset({503}), True)
    assert RetryPolicy.from_conf(False, connector) == RetryPolicy(
        attempts=1, backoff=0.1, statuses=frozenset({503}))  # retry: false = one try
    assert RetryPolicy.from_conf(True, connector) is connector
    assert RetryPolicy.from_conf(None, connector) is connector
    assert RetryPolicy.from_conf({}, connector) is connector
    assert RetryPolicy.from_conf(False) == RetryPolicy(attempts=1)
    assert RetryPolicy.from_conf(None) == DEFAULT


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_safe_call_is_retried_on_each_retry_status(status: int) -> None:
    assert DEFAULT.retry_status(status, safe=True)


@pytest.mark.parametrize("status", [200, 400, 404, 408, 500, 501])
def test_other_answers_are_not_retried_even_for_a_safe_call(status: int) -> None:
    assert not DEFAULT.retry_status(status, safe=True)
    assert not RetryPolicy(unsafe=True).retry_status(status, safe=False)


def test_a_call_not_safe_to_repeat_is_retried_only_when_the_server_did_not_act() -> None:
    assert DEFAULT.retry_status(429, safe=False)  # too many requests: not processed
    assert not DEFAULT.retry_status(502, safe=False)  # a gateway: it may have been applied
    assert not DEFAULT.retry_status(504, safe=False)
    unsafe = RetryPolicy(unsafe=True)
    assert unsafe.retry_status(502, safe=False) and unsafe.retry_status(504, safe=False)
    only_502 = RetryPolicy(statuses=frozenset({502}))
    assert not only_502.retry_status(429, safe=False) and not only_502.retry_status(429, True)


def test_transport_failures() -> None:
    assert DEFAULT.retry_transport(sent=None, safe=True)
    assert DEFAULT.retry_transport(sent=True, safe=True)
    assert DEFAULT.retry_transport(sent=False, safe=False)  # refused: it never left
    assert not DEFAULT.retry_transport(sent=True, safe=False)  # it may have arrived
    assert not DEFAULT.retry_transport(sent=None, safe=False)
    assert RetryPolicy(unsafe=True).retry_transport(sent=True, safe=False)


def test_backoff_doubles_with_full_jitter_up_to_max_delay() -> None:
    random.seed(20261201)
    policy = RetryPolicy(backoff=0.5, max_delay=3.0)
    for attempt, cap in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)):
        waits = [policy.delay(attempt) for _ in range(300)]
        assert all(0.0 <= w <= cap for w in waits), (attempt, max(waits))
        assert max(waits) > cap * 0.9 and min(waits) < cap * 0.1, attempt  # the whole range


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), (" 12 ", 12.0), ("0", 0.0),
                                                  ("100", 30.0)])
def test_retry_after_in_seconds_is_honoured_and_capped(header: str, expected: float) -> None:
    assert DEFAULT.delay(1, header) == expected


def test_retry_after_as_an_http_date() -> None:
    soon = formatdate(time.time() + 10, usegmt=True)
    assert 7.0 <= DEFAULT.delay(1, soon) <= 10.0
    assert RetryPolicy(max_delay=4.0).delay(1, soon) == 4.0
    assert DEFAULT.delay(1, formatdate(time.time() - 3600, usegmt=True)) == 0.0  # past: now


@pytest.mark.parametrize("header", ["soon", "", "-5", "1.5x", "Mon, 99 Foo 2026 99:99:99 GMT"])
def test_a_retry_after_that_is_not_understood_falls_back_to_backoff(header: str) -> None:
    random.seed(7)
    waits = [RetryPolicy(backoff=0.25).delay(1, header) for _ in range(200)]
    assert all(0.0 <= w <= 0.25 for w in waits) and len(set(waits)) > 100

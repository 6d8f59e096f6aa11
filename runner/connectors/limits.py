"""A connector's ``limits:`` as a frozen value: a rate (token bucket with a burst), requests in
flight at most, an optional ``per:`` key template, a circuit breaker. The connector file gives
them (``ConnectorSpec.limits``); an environment file's ``connectors.NAME.limits`` replaces the
keys it names (:func:`merged`). The schema is :mod:`runner.limits_schema`; what enforces them is
:mod:`runner.connectors.gates`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.limits_schema import LIMITS_SCHEMA as LIMITS_SCHEMA  # spec.py's, from here
from runner.limits_schema import rate_per_second

COOLDOWN = 30.0  # seconds an open breaker fails calls fast, when the file does not say


@dataclass(frozen=True)
class Breaker:
    """A connector's ``limits: breaker:``: failures in a row that open it, and for how long."""
    failures: int
    cooldown: float = COOLDOWN


@dataclass(frozen=True)
class Limits:
    """A connector's ``limits:``: rate, burst, requests at once, what they are counted per."""
    rate: float | None = None  # requests per second
    burst: int = 1
    concurrent: int | None = None
    per: str | None = None  # a template: one bucket and one set of slots per value
    breaker: Breaker | None = None

    @classmethod
    def from_conf(cls, conf: Mapping[str, Any] | None) -> Limits | None:
        """The schema-checked ``limits:`` mapping as Limits; None when it limits nothing."""
        if not conf:
            return None
        breaker = conf.get("breaker")
        limits = cls(
            rate=rate_per_second(conf.get("rate")),
            burst=int(conf.get("burst", 1)),
            concurrent=int(conf["concurrent"]) if conf.get("concurrent") else None,
            per=conf.get("per") or None,
            breaker=Breaker(int(breaker["failures"]), float(breaker.get("cooldown", COOLDOWN)))
            if breaker and breaker.get("failures") else None,
        )
        return limits if limits.limiting or limits.breaker else None

    @property
    def limiting(self) -> bool:
        """Whether a call may have to wait (a rate or a number of slots)."""
        return self.rate is not None or self.concurrent is not None


def merged(file: Mapping[str, Any] | None, env: Mapping[str, Any] | None) -> Limits | None:
    """The connector file's ``limits:`` with the environment's keys over it (a ``breaker:``
    there replaces the file's whole)."""
    conf = {**(file or {}), **(env or {})}
    return Limits.from_conf(conf)

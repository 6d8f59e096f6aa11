"""Retry policy: which failures are tried again, how long to wait, and what is never repeated.

A connector sets its policy under ``retry:`` in its connector file; a step may override it with
``retry:`` (or turn it off with ``retry: false``). Settings: ``attempts`` (all tries, the first
included), ``backoff`` (first delay, doubled each time, with full jitter), ``max_delay``,
``statuses`` (HTTP answers worth another try), ``unsafe`` (may a call that is not safe to
repeat be retried after it may have reached the server).

What is retried:
- a safe call (GET, or an operation marked safe): connection errors, timeouts, broken bodies,
  and answers with a status in ``statuses`` (429, 502, 503, 504 by default);
- a call that is not safe to repeat (POST, PATCH, LOOKUP...): only when the request surely did
  not reach the server (connection refused), or its answer has a status in ``statuses`` that
  proves it was not applied (the connector's ``not_applied`` rule, :mod:`runner.connectors.outcome`:
  by default every 4xx but 408, so 429 is retried and a gateway's 502, 503 or 504 is not: the
  vendor may have acted behind it) — unless the policy or the step says ``unsafe: true``.
  The same rule decides whether ``runner resume`` may send it again.
An answer whose status the call lists as a success (a step's ``status: 503``, an operation's
``success:``) is never retried, whatever ``statuses`` says: it is the answer asked for.
``Retry-After`` (seconds or an HTTP date) is honoured, capped by ``max_delay``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from runner.connectors.outcome import NotApplied


@dataclass(frozen=True)
class RetryPolicy:
    """How a connector retries: attempts, backoff, the statuses worth another try."""
    attempts: int = 3
    backoff: float = 0.5
    max_delay: float = 30.0
    statuses: frozenset[int] = frozenset({429, 502, 503, 504})
    unsafe: bool = False

    @classmethod
    def from_conf(cls, conf: Mapping[str, Any] | bool | None,
                  base: RetryPolicy | None = None) -> RetryPolicy:
        base = base or cls()
        if conf is False:
            return replace(base, attempts=1)
        if not conf or conf is True:
            return base
        values: dict[str, Any] = {}
        for key in ("attempts", "backoff", "max_delay", "unsafe"):
            if key in conf:
                values[key] = conf[key]
        if "statuses" in conf:
            values["statuses"] = frozenset(int(s) for s in conf["statuses"])
        return replace(base, **values)

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before try ``attempt + 1`` (attempt counts from 1)."""
        if retry_after:
            wait = _retry_after_seconds(retry_after)
            if wait is not None:
                return min(max(wait, 0.0), self.max_delay)
        cap = min(self.max_delay, self.backoff * (2 ** (attempt - 1)))
        import random  # here: a run that never retries does not import it

        return random.uniform(0, cap)  # full jitter: retries of many clients spread out

    def retry_status(self, status: int, safe: bool,
                     not_applied: NotApplied | None = None) -> bool:
        """Try again after an answer with ``status``? An unsafe call only when the answer
        proves it was not applied (``not_applied``: the operation's rule, else the default)."""
        if status not in self.statuses:
            return False
        return safe or self.unsafe or (not_applied or NotApplied()).proves(status)

    def retry_transport(self, sent: bool | None, safe: bool) -> bool:
        return safe or self.unsafe or sent is False


def retry_after(value: str | None, cap: float) -> float | None:
    """A ``Retry-After`` header's seconds (at most ``cap``), or None when there is none."""
    wait = _retry_after_seconds(value) if value else None
    return None if wait is None else min(max(wait, 0.0), cap)


def _retry_after_seconds(value: str) -> float | None:
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime  # here: the email package is ~1.5 ms of
    # every start, and a date in Retry-After is rare

    try:
        return parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None


Sleep = Callable[[float], None]

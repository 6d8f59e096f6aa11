"""A connector's circuit breaker (``limits: {breaker: {failures: N, cooldown: S}}``).

Closed, it counts requests in a row that got no answer (a transport error) or a 5xx; any
other answer, a 4xx included (the vendor is up and said no), sets the count back to 0. At
``failures`` it opens: for ``cooldown`` seconds every call fails at once with
:class:`~runner.errors.CircuitOpen`, never sent. Then it is half-open: one call goes as a
trial while the others still fail fast; its answer closes the breaker, its failure opens it
for another cool-down. It is this process's: every run of it shares it (through the gate).

What it remembers of a failure is its kind ("HTTP 503", "no answer"), never its message: the
breaker outlives the run whose secrets the message might hold, and another run's redactor
does not know them.
"""

from __future__ import annotations

import threading
import time

from runner.connectors.limits import Breaker
from runner.errors import CircuitOpen


class CircuitBreaker:
    def __init__(self, name: str, conf: Breaker) -> None:
        self.name = name
        self.conf = conf
        self._lock = threading.Lock()
        self.failures = 0  # in a row
        self.open_until: float | None = None  # monotonic; None: closed
        self.trying = False  # half-open: a trial call is out
        self.last = ""  # the last failure's kind
        self.opened = 0  # times it opened (tests, reports)

    def check(self) -> None:
        """Let a call through, or raise CircuitOpen."""
        if self.open_until is None:  # closed: no lock on the common path
            return
        with self._lock:
            if self.open_until is None:
                return
            left = self.open_until - time.monotonic()
            if left <= 0 and not self.trying:
                self.trying = True  # this call is the trial
                return
        why = ("a trial call is under way" if left <= 0 else
               f"calls are let through again in {left:.1f} s")
        raise CircuitOpen(
            f"not sent: connector '{self.name}' failed {self.failures} times in a row "
            f"(last: {self.last or 'no answer'}), its circuit breaker is open: {why}",
            hint=f"the vendor is failing or unreachable; the breaker opens after "
            f"{self.conf.failures} failures for {self.conf.cooldown:g} s (limits.breaker in "
            "the connector file, or connectors.NAME.limits in the environment file)")

    def record(self, ok: bool | None, kind: str = "") -> None:
        """How a call that went through ended: ``ok`` False for no answer or a 5xx, None when
        it did not end either way (interrupted: a trial is given back)."""
        with self._lock:
            trial, self.trying = self.trying, False
            if ok is None:
                return
            if ok:
                self.failures, self.open_until = 0, None
                return
            self.failures += 1
            self.last = kind or self.last
            if trial or self.failures >= self.conf.failures:
                if self.open_until is None or trial:
                    self.opened += 1
                self.open_until = time.monotonic() + self.conf.cooldown

"""What every request of a connector passes on its way out: its limits, its pause, its breaker.

A :class:`Gate` is one connector (its name and base URL) with one set of limits, shared by
every client of the process that talks to it: every run, every loop iteration, every included
playbook and every row of a batch (:func:`gate_for` keeps them). Before each request the client
calls :meth:`Gate.enter` (the breaker may refuse it, then it waits for a slot when
``concurrent`` is set, then for the connector's pause and the rate's next free moment) and
after it :meth:`Gate.leave` (the slot back; the breaker told how it went). A 429 (or a 503)
with ``Retry-After`` pauses the whole connector (:meth:`Gate.pause`), limits or none: the
calls of other iterations and runs wait it out instead of earning their own 429s.

The rate is a GCRA token bucket (a "theoretical arrival time"; ``burst`` requests may go at
once): a request reserves its moment, so concurrent callers are spaced exactly and fairly.
Where its state lives is a backend: :class:`LocalBackend` (this process, threads) or, when a
Redis URL is given (the broker's on a worker, an environment's ``limits: {redis: URL}``),
:class:`runner.connectors.gates_redis.RedisBackend`, shared by every worker. The breaker is
this process's (:mod:`runner.connectors.breaker`).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from runner.connectors.breaker import CircuitBreaker
from runner.connectors.limits import Limits

Sleep = Callable[[float], None]
SLOT_POLL = 0.01  # seconds between looks for a free slot (Ctrl-C is seen between them)


class Backend(Protocol):
    """Where a gate's buckets, slots and pause live."""

    def reserve(self, key: str, interval: float, tau: float) -> tuple[float, bool]:
        """Seconds to wait before sending, and whether a moment was reserved (False: the
        connector is paused; wait, then ask again). ``interval`` 0: no rate, only the pause."""
        ...

    def pause(self, seconds: float, tau: float) -> None: ...
    def take_slot(self, key: str, limit: int) -> Any: ...  # a token, or None: none free
    def give_slot(self, key: str, token: Any) -> None: ...


class LocalBackend:
    """A gate's state in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}  # key -> theoretical arrival time (monotonic)
        self._paused_until = 0.0
        self._slots: dict[str, int] = {}

    def reserve(self, key: str, interval: float, tau: float) -> tuple[float, bool]:
        now = time.monotonic()
        with self._lock:
            if self._paused_until > now:
                return self._paused_until - now, False
            if not interval:
                return 0.0, True
            # after a pause the rate starts again, not a burst
            tat = max(self._tat.get(key, now), now, self._paused_until + tau)
            self._tat[key] = tat + interval
        return max(tat - tau - now, 0.0), True

    def pause(self, seconds: float, tau: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def take_slot(self, key: str, limit: int) -> Any:
        with self._lock:
            used = self._slots.get(key, 0)
            if used >= limit:
                return None
            self._slots[key] = used + 1
            return True

    def give_slot(self, key: str, token: Any) -> None:
        with self._lock:
            self._slots[key] -= 1


class Gate:
    def __init__(self, name: str, limits: Limits | None, backend: Backend) -> None:
        self.name = name
        self.limits = limits
        self.backend = backend
        rate = limits.rate if limits is not None else None
        self.interval = 1.0 / rate if rate else 0.0
        self.tau = (limits.burst - 1) * self.interval if limits is not None else 0.0
        self.concurrent = limits.concurrent if limits is not None else None
        self.breaker = CircuitBreaker(name, limits.breaker) \
            if limits is not None and limits.breaker is not None else None

    def enter(self, key: str, sleep: Sleep) -> tuple[Any, float]:
        """Wait until a request may go; (the slot's token to give back, seconds waited).
        Raises :class:`runner.errors.CircuitOpen` when the breaker is open."""
        if self.breaker is not None:
            self.breaker.check()
        started = 0.0  # when it first had to wait
        token = None
        try:
            if self.concurrent is not None:
                while (token := self.backend.take_slot(key, self.concurrent)) is None:
                    started = started or time.monotonic()
                    sleep(SLOT_POLL)
            while True:
                wait, reserved = self.backend.reserve(key, self.interval, self.tau)
                if wait > 0:
                    started = started or time.monotonic()
                    sleep(wait)
                if reserved:
                    break
        except BaseException:
            self._give(key, token)
            if self.breaker is not None:
                self.breaker.record(None)
            raise
        return token, time.monotonic() - started if started else 0.0

    def leave(self, key: str, token: Any, ok: bool | None, kind: str = "") -> None:
        """The request is over: ``ok`` False for no answer or a 5xx (``kind``: which), None
        for neither known (it was interrupted)."""
        self._give(key, token)
        if self.breaker is not None:
            self.breaker.record(ok, kind)

    def pause(self, seconds: float) -> None:
        """The vendor asked for a pause (``Retry-After``): every caller waits it out."""
        if seconds > 0:
            self.backend.pause(seconds, self.tau)

    def _give(self, key: str, token: Any) -> None:
        if token is not None:
            self.backend.give_slot(key, token)


# the gates clients use now, and the last 256 made: a long-lived process (a scheduler
# of sandbox runs, each at new ports) does not keep every gate it ever made, while runs one
# after another still share their connector's bucket and pause
_gates: weakref.WeakValueDictionary[tuple[Any, ...], Gate] = weakref.WeakValueDictionary()
_recent: deque[Gate] = deque(maxlen=256)
_lock = threading.Lock()
# the Redis every limit of this process is shared through unless an environment names one: a
# worker's broker (runner.distributed.start_worker sets it)
shared_redis: str | None = None


def share_through(url: str | None) -> None:
    """Share this process's limits through the Redis at ``url`` (a worker's broker)."""
    global shared_redis
    shared_redis = url if url and url.startswith(("redis://", "rediss://", "unix://")) else None


def gate_for(name: str, base_url: str, limits: Limits | None, redis: str | None = None) -> Gate:
    """The process's gate of connector ``name`` at ``base_url`` with ``limits`` (one per such
    triple, and per Redis URL: the runs of a process share it)."""
    redis = redis or shared_redis
    ident = (name, base_url, limits, redis)
    gate = _gates.get(ident)
    if gate is None:
        with _lock:
            gate = _gates.get(ident)
            if gate is None:
                if redis and limits is not None and limits.limiting:  # a pause alone: here
                    from runner.connectors.gates_redis import RedisBackend

                    backend: Backend = RedisBackend(redis, f"{name}|{base_url}")
                else:
                    backend = LocalBackend()
                gate = _gates[ident] = Gate(name, limits, backend)
                _recent.append(gate)
    return gate

"""A simulator's fault settings: latency, a share of 5xx and of 429, dropped connections,
truncated or invalid bodies, bad gzip; all off by default.

Each fault is rolled per request from a random source that a test may seed, so it can ask
for "a fifth of the answers are 503" and get the same ones every run, or for "the next create
fails once" (``only`` and ``count``). The server (:mod:`runner.simulator_server`) applies
them around the route.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


@dataclass
class Faults:
    """Fault settings, all off by default. Shares are probabilities in [0, 1].

    ``drop_before``: close the connection before the route acts (nothing happened server-side).
    ``drop_after``: the route acts, then the connection is closed without an answer.
    ``only``: restrict faults to routes whose name is in this set (empty = all routes).
    ``count``: apply at most this many faults (None = unlimited), so a test can say
    "the next create fails once".
    """

    latency: float = 0.0
    error_5xx: float = 0.0
    status_5xx: int = 503
    rate_limit: float = 0.0
    retry_after: int = 1
    drop_before: float = 0.0
    drop_after: float = 0.0
    truncate: float = 0.0
    invalid_body: float = 0.0
    bad_gzip: float = 0.0
    only: set[str] = field(default_factory=set)
    count: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def roll(self, share: float, route_name: str) -> bool:
        if share <= 0 or (self.only and route_name not in self.only):
            return False
        with self._lock:
            if self.count is not None and self.count <= 0:
                return False
            hit = self._rng.random() < share
            if hit and self.count is not None:
                self.count -= 1
            return hit

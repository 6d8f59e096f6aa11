"""What the runs of one :class:`runner.park.Pool` share (``park.shared``): each thing made once,
by the first run that asks, and closed with the pool (a batch's direct ``http://``
connections, runner.connectors.wire). Held by the pool's hubs, not the pool, so that a hub is
no cycle to collect."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Shares:
    """What a pool's runs share (:func:`runner.park.shared`): each made once, closed with it."""

    def __init__(self) -> None:
        self._things: dict[str, tuple[Any, Callable[[Any], None]]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, make: Callable[[], T], close: Callable[[T], None]) -> T:
        with self._lock:
            got = self._things.get(key)
            if got is None:
                got = self._things[key] = (make(), close)
            return got[0]

    def close(self) -> None:
        with self._lock:
            things, self._things = self._things, {}
        for thing, close in things.values():
            close(thing)

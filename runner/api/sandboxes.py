"""``runner.api.sandbox``: serve the connectors' simulators on loopback until stopped."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from runner.connectors import registry
from runner.sandbox import Sandbox


def sandbox(names: Sequence[str] = (), *,
            on_ready: Callable[[dict[str, str]], None] | None = None,
            stop: threading.Event | None = None) -> None:
    """Start the simulators of ``names`` (default: every connector that has one), call
    ``on_ready`` with each one's URL, and serve until ``stop`` is set (or Ctrl-C)."""
    box = Sandbox().start(list(names) or [s.name for s in registry.all_specs() if s.simulator])
    try:
        if on_ready is not None:
            on_ready({name: sim.url for name, sim in box.simulators.items()})
        (stop or threading.Event()).wait()
    finally:
        box.stop()

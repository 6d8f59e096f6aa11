"""``runner.api.callbacks``: the callback listener beside workers (``runner callbacks``)."""

from __future__ import annotations

from typing import Any

from runner.callback_server import serve
from runner.ownership import STALE_AFTER
from runner.store import Store


def callbacks(bind: str = "127.0.0.1:8787", *, store: str | None = None,
              broker: str | None = None, queue: str = "runner",
              stale_after: float = STALE_AFTER, ready: Any = None,
              woken: Any = None) -> None:
    """Receive callbacks on ``bind`` (HOST:PORT) for the runs of ``store`` until stopped;
    with ``broker``, wake a run nobody holds through it (:mod:`runner.callback_server`)."""
    db = Store(store)
    try:
        serve(db, bind, broker=broker, queue=queue, stale_after=stale_after, ready=ready,
              woken=woken)
    finally:
        db.close()

"""``runner callbacks``: the callback listener beside workers.

It keeps each callback in the store (:mod:`runner.callback_listener`), where the waiting run
finds it, and wakes the run through the broker: a run ``waiting`` whose heartbeat is older
than ``stale_after`` is held by no process (parked, or its worker died), so it is handed to
the workers again, and the resumed `wait-for` finds its callback at once. A run still held
finds it on its next look; a second message for it would only be refused as busy.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from runner.callback_listener import Listener
from runner.orphans import Orphan
from runner.ownership import STALE_AFTER
from runner.store import Store

log = logging.getLogger("runner.callbacks")


def serve(store: Store, bind: str, *, broker: str | None = None, queue: str = "runner",
          stale_after: float = STALE_AFTER, ready: Any = None, woken: Any = None) -> None:
    """Serve until stopped (Ctrl-C). ``ready(url)`` is told where it listens, ``woken(run_id)``
    of each run handed to the workers again."""
    host, _, port = bind.rpartition(":")
    wake = None
    if broker:
        from runner.distributed import hand_over, make_app

        app = make_app(broker, queue=queue)

        def wake(run_id: str) -> None:
            row = store.get_run(run_id)
            held = row is not None and row["status"] == "waiting" and \
                time.time() - (row["heartbeat"] or 0) < stale_after  # parked: held by nobody
            if row is None or row["status"] not in ("waiting", "parked") or held:
                return  # held by a live process: it looks in the store itself
            hand_over(app, queue, Orphan(run_id, row["status"], row["file"], row["environment"],
                                         row.get("inputs") or {}, row.get("dedup_key"),
                                         row["heartbeat"]))
            log.info("run %s woken through the broker", run_id)
            if woken is not None:
                woken(run_id)

    listener = Listener(store, host or "127.0.0.1", int(port or 0), on_received=wake)
    if ready is not None:
        ready(listener.url)
    try:
        listener.serve()
    finally:
        listener.server.server_close()

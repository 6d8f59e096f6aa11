"""A run's id: ``YYYYmmdd-HHMMSS-`` and six random hex digits.

Random digits alone collide: a batch starts hundreds of runs a second, and among 370 ids of
one second two share their six digits about once in 250 seconds (the birthday bound on 2**24).
So no id is handed out twice by one process, and the store, which holds every process's ids,
refuses one taken by another process (:class:`runner.store.Store` then asks for a fresh one)
rather than taking it for a run that already ran.
"""

from __future__ import annotations

import os
import threading
import time

_lock = threading.Lock()
_second = ""
_issued: set[str] = set()


def new_run_id() -> str:
    global _second
    with _lock:
        now = time.strftime("%Y%m%d-%H%M%S")
        if now != _second:  # ids of an earlier second cannot come again
            _second = now
            _issued.clear()
        while True:
            run_id = f"{now}-{os.urandom(3).hex()}"
            if run_id not in _issued:
                _issued.add(run_id)
                return run_id

"""``runner resume --stale``: resume here every run nobody is working on.

:mod:`runner.orphans` says which runs those are (with a broker, the queued runs that still have
a message in it are left to the workers); each is taken up as ``runner resume RUN_ID`` takes
one (:func:`runner.resume.resume_asked`), a few at a time, and one run's refusal or bug does
not stop the others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from runner.broker_scan import broker_messages
from runner.errors import RunnerError
from runner.orphans import Orphan, find_orphans
from runner.park import THREADS, Pool
from runner.results import RunResult
from runner.resume import resume_asked
from runner.store import Store

Resumed = tuple[Orphan, RunResult | None, str | None]  # (orphan, result, why not resumed)


def resume_stale(store: Store, *, stale_after: float, broker: str | None = None,
                 queue: str = "runner", concurrency: int = 4,
                 inputs: Mapping[str, Any] | None = None,
                 on_result: Callable[[Orphan, RunResult | None, str | None], None] | None = None,
                 ) -> list[Resumed]:
    """Resume every orphan of ``store``, ``concurrency`` at a time; (orphan, result, error)
    per run, in the order found. ``on_result`` is called with the same as each ends, one at a
    time."""
    messages = broker_messages(broker, queue) if broker else None
    orphans = find_orphans(store, stale_after=stale_after, messages=messages, local=True)
    said = threading.Lock()

    def one(orphan: Orphan, cancel: threading.Event) -> Resumed:
        try:
            got: Resumed = (orphan, resume_asked(store, orphan.run_id, inputs=inputs,
                                                 stale_after=stale_after, cancel=cancel), None)
        except RunnerError as e:
            got = (orphan, None, e.with_hint())
        except Exception as e:  # one run's bug must not stop the others
            got = (orphan, None, f"internal error: {type(e).__name__}")
        if on_result is not None:
            with said:  # one run's line at a time
                on_result(*got)
        return got

    done: list[Resumed] = []
    # resumed runs wait parked; Ctrl-C or SIGTERM stops the runs under way (interrupted,
    # resumable) instead of waiting for them to end
    with Pool(min(max(1, concurrency), len(orphans) or 1, THREADS)) as pool:
        pool.each(one, orphans, max(1, concurrency), done.append)
    return done

"""What the steps that wait for someone else share: the wait itself.

A waiting step (``wait-for``, ``approve``) marks the run ``waiting`` in the store, leaves a
``waiting`` row in its journal (with its deadline, so a resumed run keeps the first one), and
looks in the store for what it waits for, first after ``CHECK_EVERY`` seconds, then 1.5 times
as long each time up to ``CHECK_AT_MOST`` (a long wait costs little; an answer is seen within
5 s), sleeping in between through the runtime's ``rt.sleep`` (Ctrl-C and SIGTERM end it at
once; a runtime that parks waits parks it). On a worker (``rt.parks``) the wait sleeps to
its deadline at once instead: the run is parked, and ``runner callbacks`` (or ``runner
approve --broker``) wakes it through the broker when the answer comes. No thread of its own,
no listener of its own: what arrives is in the store, put there by another thread or process
(:mod:`runner.callback_inbox`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from runner.errors import StepFailed
from runner.steps.runtime import Runtime

if TYPE_CHECKING:
    from runner.journal import Journal
    from runner.results import StepResult

T = TypeVar("T")
CHECK_EVERY = 0.5  # seconds before the first look in the store again ...
CHECK_AT_MOST = 5.0  # ... growing to this


def journal_of(rt: Runtime, what: str) -> Journal:
    if rt.journal is None:
        raise StepFailed(f"{what} needs the run store: it is where the answer arrives",
                         hint="run it without --no-store (the default store is fine)")
    return rt.journal


def wait(rt: Runtime, result: StepResult, key: str, seconds: float, look: Callable[[], T | None],
         shown: str, **mark: Any) -> T | None:
    """Wait until ``look()`` gives something (returned) or ``seconds`` pass (None), the run
    ``waiting`` meanwhile. ``key``: the step's journal key; ``mark``: what the ``waiting`` row
    says besides its deadline."""
    from runner.callback_inbox import add, rows  # the store: loading a playbook needs none

    journal = journal_of(rt, "a waiting step")
    store, run_id = journal.store, journal.run_id
    earlier = rows(store, run_id, key, "waiting")
    if earlier:  # a resumed run: the deadline of the first attempt holds
        until = float(earlier[0].data.get("until") or 0)
    else:
        until = time.time() + seconds
        add(store, run_id, key, "waiting", "waiting", {**mark, "until": until})
    store.update_run(run_id, status="waiting")
    rt.emit("poll_attempt", result, 1, 0.0, shown)
    every = CHECK_EVERY
    try:
        while True:
            got = look()
            if got is not None:
                return got
            left = until - time.time()
            if left <= 0:
                return None
            # on a worker: parked until the deadline (`runner callbacks` or `runner approve
            # --broker` wakes it)
            rt.sleep(left if rt.parks(left) else min(every, left))
            every = min(every * 1.5, CHECK_AT_MOST)
            journal.heartbeat()
    finally:
        store.update_run(run_id, status="running")

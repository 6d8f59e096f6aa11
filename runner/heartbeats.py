"""One heartbeat per process: every run this process holds looks alive, however long it waits.

What reads a run's ``heartbeat`` column: the claim (:func:`runner.ownership.claim_run`, for
``runner resume``, ``--stale``, ``--batch``, a worker's message), the workers' orphan sweep and
``runner resume --stale`` (:mod:`runner.orphans`), ``runner resume --batch``
(:mod:`runner.batch_resume`), ``runner callbacks --broker`` (wakes a ``waiting`` run only when
nobody holds it) and the UI's stuck runs. Each takes a ``running`` or ``waiting`` run whose
heartbeat is older than its ``stale_after`` (30 s unless told) for dead. Journal writes refresh
it, but a run may go minutes without one (a poll's long interval, a parked ``sleep:``, a
``wait-for``, an ``approve:``), so the process that holds runs beats for them: one daemon
thread per store (per database), started with the first run held and gone with the last, every
:data:`EVERY` seconds sends ONE statement for all of them::

    UPDATE runs SET heartbeat = :now WHERE status IN ('queued', 'running', 'waiting')
      AND (owner IN (<the attempts this process holds>)
           OR (run_id IN (<its runs without an owner>) AND coalesce(owner, '') = ''))

A run is held by its attempt's owner token (a claimed run: a worker's job, ``runner resume``,
a batch's rows, which share the batch's one token, and are recorded ``queued`` with it, so a row
waiting its turn looks alive too) or, for a plain ``runner run`` (its row has no owner), by its
id. Fencing is untouched: a run taken over has another owner, so the beat
of the attempt taken for dead no longer matches its row (and the attempt still fails at its
next journal write); a run without an owner that someone took over has one now, and is not
beaten for either. 10,000 runs parked in one batch are one owner: one statement per beat, and
no thread or timer per run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from runner.store import Store
from runner.store_db import Conn

EVERY = 5.0  # seconds between beats: a sixth of the default stale threshold (30 s)
CHUNK = 500  # names in one IN list (SQLite's and drivers' limits on parameters are far above)

_LOCK = threading.Lock()
_PULSES: dict[Any, Pulse] = {}  # a store's database (the object) -> its pulse


class Hold:
    """One run held by this process (:func:`hold`); :meth:`release` when its attempt ends."""

    __slots__ = ("every", "owner", "pulse", "run_id")

    def __init__(self, pulse: Pulse, owner: str, run_id: str, every: float) -> None:
        self.pulse, self.owner, self.run_id, self.every = pulse, owner, run_id, every

    def release(self) -> None:
        self.pulse.drop(self)


class Pulse(threading.Thread):
    """The heartbeat thread of one database: beats for every :class:`Hold` on it."""

    def __init__(self, store: Store) -> None:
        super().__init__(daemon=True, name="runner-heartbeat")
        self.store = store
        self.holds: set[Hold] = set()
        self.wake = threading.Condition(_LOCK)
        self.beats = 0  # statements sent (tests and benchmarks read it)

    def every(self) -> float:
        return min((h.every for h in self.holds), default=EVERY)

    def drop(self, held: Hold) -> None:
        with _LOCK:
            self.holds.discard(held)
            if not self.holds:  # the last run ended: the thread ends now, not a beat later
                self.wake.notify()

    def run(self) -> None:
        while True:
            with _LOCK:
                self.wake.wait(self.every())
                if not self.holds:  # the last run ended: the next hold starts a new pulse
                    if _PULSES.get(self.store.db) is self:
                        del _PULSES[self.store.db]
                    return
                owners = sorted({h.owner for h in self.holds if h.owner})
                runs = sorted({h.run_id for h in self.holds if not h.owner})
            self.send(owners, runs)

    def send(self, owners: list[str], runs: list[str]) -> None:
        try:
            self.store.atomically(lambda c: beat(c, owners, runs, time.time()))
            self.beats += 1
        except Exception as e:  # the database blinked: the next beat may get through
            with _LOCK:
                if not self.holds:  # the runs ended meanwhile, and their store was closed
                    return
            import logging  # here: logging is ~2.5 ms of every start, and this is rare

            logging.getLogger("runner.heartbeats").warning(
                "heartbeat of %d run(s) failed: %s: %s", len(owners) + len(runs),
                type(e).__name__, str(e)[:200])


def beat(c: Conn, owners: list[str], runs: list[str], now: float) -> int:
    """Refresh the heartbeat of the live runs of ``owners`` and of the unowned ``runs``, in
    one statement (a few, past :data:`CHUNK` names); the rows touched."""
    touched = 0
    for at in range(0, max(len(owners), len(runs)), CHUNK):
        some_owners, some_runs = owners[at:at + CHUNK], runs[at:at + CHUNK]
        params: dict[str, Any] = {"now": now}
        params.update({f"o{i}": o for i, o in enumerate(some_owners)})
        params.update({f"r{i}": r for i, r in enumerate(some_runs)})
        which = []
        if some_owners:
            which.append(f"owner IN ({', '.join(f':o{i}' for i in range(len(some_owners)))})")
        if some_runs:
            which.append(f"(run_id IN ({', '.join(f':r{i}' for i in range(len(some_runs)))}) "
                         "AND coalesce(owner, '') = '')")
        touched += c.execute("UPDATE runs SET heartbeat = :now WHERE status IN ('queued', "
                             f"'running', 'waiting') AND ({' OR '.join(which)})",
                             params).rowcount
    return touched


def hold(store: Store, *, owner: str = "", run_id: str = "", every: float = EVERY) -> Hold:
    """Keep the run of attempt ``owner`` (or, with no owner, the run ``run_id``) alive-looking
    in ``store`` until the hold is released; beats at least every ``every`` seconds."""
    assert owner or run_id
    with _LOCK:
        pulse = _PULSES.get(store.db)
        if pulse is None:
            pulse = _PULSES[store.db] = Pulse(store)
            pulse.start()
        held = Hold(pulse, owner, run_id, every)
        faster = every < pulse.every()
        pulse.holds.add(held)
        if faster:  # it sleeps for a longer beat: it starts again with this one
            pulse.wake.notify()
    return held


@contextmanager
def held(store: Store, *, owner: str = "", run_id: str = "",
         every: float = EVERY) -> Iterator[Hold]:
    """:func:`hold` for the block."""
    h = hold(store, owner=owner, run_id=run_id, every=every)
    try:
        yield h
    finally:
        h.release()


def pulse_of(store: Store) -> Pulse | None:
    """The pulse beating for ``store``'s database now, if any."""
    with _LOCK:
        return _PULSES.get(store.db)

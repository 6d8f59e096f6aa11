"""The scheduler's loop: it ticks, fires each schedule's due fire times into the run store
exactly once, applies the overlap policy, and hands the runs to ``dispatch``. The schedule file,
its checks and its fire times are :mod:`runner.schedule_file`.

Exactly once. Each (schedule, fire time) becomes one run whose ``dedup_key`` is
``name@2026-11-23T02:00:00Z`` (the fire time in UTC); the store's unique constraint refuses a
second one. The last fire time dealt with is kept per schedule (table ``schedule_state``),
updated in the same transaction as the runs it created, with the row locked (``SELECT ... FOR
UPDATE``) so that two schedulers on one PostgreSQL take turns per schedule instead of racing
(on SQLite the transaction holds the file's write lock from its start, which does the same).

Overlap, when a run of the same schedule is still queued or running at a fire time: ``skip``
records the fire time as a run with status ``skipped`` (history says why), ``queue`` records
it as ``pending`` and starts it when the earlier runs are done, one at a time, oldest first;
``allow`` starts it anyway.

Time is injectable: :class:`Scheduler` takes ``clock`` and ``sleep``, and :meth:`Scheduler.tick`
fires what is due at a given ``now``. Starting a run is the ``dispatch`` callable's business
(:mod:`runner.jobs` in this process, or :mod:`runner.distributed` on Celery workers).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from runner.errors import StoreError
from runner.jobs import RunJob, notify_message
from runner.run_ids import new_run_id
from runner.schedule_file import (
    MAX_CATCH_UP,
    MISFIRE_GRACE,
    Plan,
    Schedule,
    dedup_key,
    fire_iso,
    plan_fires,
)
from runner.store import Store
from runner.store_db import Conn, StoreConflict, in_list, like_literal

ACTIVE = ("queued", "running", "waiting", "parked")
PENDING, QUEUED, SKIPPED = "pending", "queued", "skipped"
_INSERT_FIRED = ("INSERT INTO runs (run_id, playbook, file, environment, inputs, status, "
                 "started, heartbeat, owner, dedup_key, finished, duration_ms, error) VALUES "
                 "(:run_id, :playbook, :file, :environment, :inputs, :status, :started, "
                 ":heartbeat, :owner, :dedup_key, :finished, :duration_ms, :error)")


# -- firing ------------------------------------------------------------------------------------
@dataclass
class Fired:
    """What a tick did with one fire time."""

    schedule: str
    fire_time: float
    run_id: str
    status: str  # queued (handed to dispatch), pending, skipped, or a promoted pending run

    @property
    def key(self) -> str:
        return dedup_key(self.schedule, self.fire_time)


Dispatch = Callable[[Any], None]  # takes a runner.jobs.RunJob


class Scheduler:
    """Fires schedules into the run store and hands the runs to ``dispatch``.

    ``clock()`` gives the time (epoch seconds) and ``sleep(seconds)`` waits between ticks; both
    are injectable so tests drive time. :meth:`run` loops until ``stop`` is set.
    """

    def __init__(self, schedules: Iterable[Schedule], store: Store, dispatch: Dispatch, *,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Any] | None = None,
                 grace: float = MISFIRE_GRACE, max_sleep: float = 1.0,
                 log: Callable[[str], None] | None = None,
                 notify: Callable[[Store, Any], Any] | None = None) -> None:
        self.schedules = {s.name: s for s in schedules if s.enabled}
        self.store = store
        self.dispatch = dispatch
        self.clock = clock
        self.stop = threading.Event()
        self.sleep = sleep or self.stop.wait
        self.grace = grace
        self.max_sleep = max_sleep
        self.log = log or (lambda _msg: None)
        self.notify = notify
        self._due_at: dict[str, float] = {}  # name -> when its next fire time is due
        self._pending: set[str] = set(self.schedules)  # may have pending runs: look each tick
        self._looked: dict[str, float] = {}  # when each schedule's waiting runs were looked at

    # -- the loop ------------------------------------------------------------------------------
    def run(self) -> None:
        """Tick until :attr:`stop` is set; a database outage is logged and waited out."""
        while not self.stop.is_set():
            now = self.clock()
            try:
                self.tick(now)
            except StoreError as e:
                self.log(f"the run store failed ({e.kind}); trying again: "
                         f"{str(e).splitlines()[0][:200]}")
                self._due_at.clear()
            wait = min(self.max_sleep, max(0.0, self.next_wakeup() - self.clock()))
            self.sleep(wait)

    def next_wakeup(self) -> float:
        now = self.clock()
        if self._pending:
            return now + self.max_sleep
        return min(self._due_at.values(), default=now + self.max_sleep)

    def tick(self, now: float | None = None) -> list[Fired]:
        """Fire every schedule's due fire times at ``now``; return what was done."""
        now = self.clock() if now is None else now
        done: list[Fired] = []
        for s in self.schedules.values():
            # overlap: queue also looks now and then for runs another scheduler left waiting
            look = s.name in self._pending or (
                s.overlap == "queue" and now - self._looked.get(s.name, -math.inf) >= 10)
            if now < self._due_at.get(s.name, -math.inf) and not look:
                continue
            done += self._tick_one(s, now, look)
        return done

    # -- one schedule, in one transaction ------------------------------------------------------
    def _tick_one(self, s: Schedule, now: float, look: bool = False) -> list[Fired]:
        fired: list[Fired] = []
        db = self.store.db
        with db.begin() as c:
            row = c.execute("SELECT last_fire FROM schedule_state WHERE name = :name"
                            + db.for_update, {"name": s.name}).first()
            if row is None:
                last = None
            else:
                last = float(row["last_fire"])
                plan = plan_fires(s, last, now, self.grace)
                fired = self._fire(c, s, plan, now, look)
                if plan.due:
                    c.execute("UPDATE schedule_state SET last_fire = :due, updated = :now "
                              "WHERE name = :name AND last_fire < :due",
                              {"due": plan.due[-1], "now": now, "name": s.name})
                    last = plan.due[-1]
                if plan.dropped or plan.truncated:
                    more = f" (and more than {MAX_CATCH_UP} before them)" * plan.truncated
                    self.log(f"{s.name}: {plan.dropped} missed fire time(s) not run{more} "
                             f"(catch_up: {s.catch_up})")
        if last is None:
            last = self._register(s, now)
        next_t = s.next_fire(last)
        self._due_at[s.name] = next_t + s.offset(next_t)
        for f in fired:
            self.log(f"{s.name}: {fire_iso(f.fire_time)} -> run {f.run_id} {f.status}")
            if f.status == QUEUED:
                job = RunJob(f.run_id, s.playbook, s.environment, dict(s.inputs), s.name,
                             fire_iso(f.fire_time), s.webhook, notify_message(s.notify))
                self._hand_over(job)
        return fired

    def _register(self, s: Schedule, now: float) -> float:
        """First sight of a schedule: its fire times count from now."""
        try:
            with self.store.db.begin() as c:
                c.execute("INSERT INTO schedule_state (name, last_fire, updated) "
                          "VALUES (:name, :now, :now)", {"name": s.name, "now": now})
            return now
        except StoreConflict:  # another scheduler registered it first
            with self.store.db.connect() as c:
                return float(c.execute("SELECT last_fire FROM schedule_state WHERE name = :name",
                                       {"name": s.name}).scalar())

    def _fire(self, c: Conn, s: Schedule, plan: Plan, now: float, look: bool) -> list[Fired]:
        fired: list[Fired] = []
        if not plan.fire and not look:
            return fired
        self._looked[s.name] = now
        params: dict[str, Any] = {"prefix": like_literal(s.name) + "@%"}
        statuses = in_list("st", [*ACTIVE, PENDING], params)
        active = [(r["run_id"], r["status"]) for r in c.execute(
            f"SELECT run_id, status FROM runs WHERE status IN {statuses} "
            "AND dedup_key LIKE :prefix ESCAPE '\\' ORDER BY dedup_key", params)]
        busy = any(st in ACTIVE for _, st in active)
        pending = [rid for rid, st in active if st == PENDING]
        for t in plan.fire:
            key = s.key(t)
            if c.execute("SELECT run_id FROM runs WHERE dedup_key = :key",
                         {"key": key}).first():
                continue  # another scheduler fired it already
            run_id = new_run_id()
            if s.overlap == "allow" or not (busy or pending):
                status, busy = QUEUED, True
            elif s.overlap == "skip":
                status = SKIPPED
            else:
                status = PENDING
                pending.append(run_id)
            values: dict[str, Any] = dict(
                run_id=run_id, playbook=s.playbook_name, file=s.playbook,
                environment=s.environment, inputs=json.dumps(s.stored_inputs, default=str),
                status=status, started=now, heartbeat=now, owner="", dedup_key=key,
                finished=None, duration_ms=None, error=None)
            if status == SKIPPED:
                values.update(finished=now, duration_ms=0.0,
                              error="the previous run of this schedule was still going "
                              "(overlap: skip)")
            c.execute(_INSERT_FIRED, values)
            fired.append(Fired(s.name, t, run_id, status))
        if not busy and pending:  # (also left over from an earlier overlap: queue)
            first = pending.pop(0)
            got = c.execute("UPDATE runs SET status = :queued, heartbeat = :now "
                            "WHERE run_id = :run_id AND status = :pending",
                            {"queued": QUEUED, "now": now, "run_id": first,
                             "pending": PENDING}).rowcount
            if got == 1:
                key = c.execute("SELECT dedup_key FROM runs WHERE run_id = :run_id",
                                {"run_id": first}).scalar()
                was = next((f for f in fired if f.run_id == first), None)
                if was is not None:
                    was.status = QUEUED
                else:
                    fired.append(Fired(s.name, _parse_key(key), first, QUEUED))
        if pending:
            self._pending.add(s.name)
        else:
            self._pending.discard(s.name)
        return fired

    def _hand_over(self, job: Any) -> None:
        try:
            self.dispatch(job)
        except Exception as e:  # the broker is down: the run can't start; say so, loudly
            error = f"could not hand the run over: {type(e).__name__}: {e}"[:500]
            self.log(f"{job.schedule}: run {job.run_id} failed: {error}")
            self.store.update_run(job.run_id, status="failed", finished=self.clock(),
                                  error=error, hint="check the broker; the fire time is "
                                  "recorded, run it by hand with runner resume " + job.run_id)
            if self.notify is not None:
                self.notify(self.store, job)

    # -- after a restart -----------------------------------------------------------------------
    def unfinished(self) -> list[Any]:
        """Runs of these schedules that were queued or running when a scheduler stopped:
        hand them to ``dispatch`` again (its claim resumes a dead run, leaves a live one)."""
        jobs = []
        params: dict[str, Any] = {}
        statuses = in_list("st", ACTIVE, params)
        with self.store.db.connect() as c:
            rows = [(r["run_id"], r["dedup_key"]) for r in c.execute(
                f"SELECT run_id, dedup_key FROM runs WHERE status IN {statuses} "
                "AND dedup_key IS NOT NULL ORDER BY started", params)]
        for run_id, key in rows:
            name, _, when = str(key).partition("@")
            s = self.schedules.get(name)
            if s is not None:
                jobs.append(RunJob(run_id, s.playbook, s.environment, dict(s.inputs), name,
                                   when, s.webhook, notify_message(s.notify)))
        return jobs


def _parse_key(key: str) -> float:
    when = key.rpartition("@")[2]
    return dt.datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=dt.timezone.utc).timestamp()


def last_fires(store: Store) -> dict[str, float]:
    """The last fire time each schedule has dealt with, by name."""
    with store.db.connect() as c:
        return {r["name"]: float(r["last_fire"]) for r in c.execute(
            "SELECT name, last_fire FROM schedule_state")}

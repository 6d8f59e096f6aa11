"""Runs nobody is working on, and handing them over again.

A run handed to workers can be left behind two ways: its message is gone (Redis restarted
without persistence, a submitter or scheduler died between recording the run and publishing
it) so it stays ``queued``; or its worker died and no message will come back in time (the
message was lost too, or the visibility timeout is an hour away) so it stays ``running`` with
a heartbeat nobody refreshes. The rule:

- ``running``, heartbeat older than ``stale_after``, and no message for it waiting in the
  queue: its attempt is dead. The workers take only runs claimed by a worker, a scheduler or
  ``runner resume`` (a row with an owner): a plain ``runner run`` that died (no owner) may
  name files or an environment only its machine has, and is left to its user, or to
  ``runner resume --stale``, which takes it too;
- ``queued``, last handed over more than ``stale_after`` ago, and no message for it anywhere in
  the broker (waiting in the queue, or held unacknowledged by a worker): its message is lost;
- ``parked`` (a worker gave its slot back in a long wait; its ``heartbeat`` is its wake time,
  owner none), ``stale_after`` past its wake time and no message waiting in the queue: the
  message due then went with a worker that died holding it (Redis would give it back only
  after the visibility timeout).

Such a run is an *orphan*. Handing it over again is safe because executing is: the claim is a
compare-and-set, so a duplicate message finds the run taken, and a taken-over run resumes from
its journal, so no call that is not safe to repeat is sent twice. Messages carry the run id as
their task id, which is how the broker is searched (:mod:`runner.broker_scan`: Redis' queue
list and ``unacked`` hash). With another broker nothing can be searched: every run that matches
the rule is taken for an orphan, and the duplicates that may make are dropped by the claim.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runner.broker_scan import Messages, broker_messages
from runner.extras import need
from runner.store import Store

log = logging.getLogger("runner.orphans")


@dataclass
class Orphan:
    """A run nobody works on: queued without a message, or running without a heartbeat."""
    run_id: str
    status: str  # queued | running | waiting | parked
    file: str
    environment: str
    inputs: dict[str, Any]
    dedup_key: str | None
    heartbeat: float | None


def find_orphans(store: Store, *, stale_after: float, messages: Messages | None,
                 local: bool = False, now: float | None = None,
                 limit: int = 10_000) -> list[Orphan]:
    """The runs of ``store`` that nobody is working on (the rule in the module's doc);
    ``local``: also those of a plain ``runner run`` that died (``runner resume --stale``)."""
    now = time.time() if now is None else now
    before = now - stale_after
    # a running run without an owner was never handed over: not the workers', unless local
    mine = "" if local else \
        " AND (status IN ('queued', 'parked') OR coalesce(owner, '') <> '')"
    with store.db.connect() as c:
        rows = c.execute(
            "SELECT run_id, status, file, environment, inputs, dedup_key, heartbeat FROM runs "
            "WHERE status IN ('queued', 'running', 'waiting', 'parked') "
            f"AND (heartbeat < :before OR heartbeat IS NULL){mine} ORDER BY started LIMIT :limit",
            {"before": before, "limit": limit})
    found = []
    for r in rows:
        if messages is not None:
            if r["run_id"] in messages.waiting:
                continue
            if r["status"] == "queued" and r["run_id"] in messages.held:
                continue
        found.append(Orphan(r["run_id"], r["status"], r["file"], r["environment"],
                            json.loads(r["inputs"] or "{}"), r["dedup_key"], r["heartbeat"]))
    return found


def mark_handed_over(store: Store, orphan: Orphan, now: float | None = None) -> bool:
    """Record that a queued orphan was handed over again now (so it is not again before
    ``stale_after``); False if someone else did it, or took the run, first."""
    if orphan.status != "queued":
        return True  # a running orphan's claim takes it over; its heartbeat must stay stale
    now = time.time() if now is None else now
    same = "heartbeat IS NULL" if orphan.heartbeat is None else "heartbeat = :was"
    sql = (f"UPDATE runs SET heartbeat = :now WHERE run_id = :run_id AND status = 'queued' "
           f"AND {same}")
    params = {"now": now, "run_id": orphan.run_id, "was": orphan.heartbeat}
    return bool(store.atomically(lambda c: c.execute(sql, params).rowcount) == 1)


class Sweeper(threading.Thread):
    """In each worker: every ``every`` seconds, hands the orphans of its queue to the broker
    again. One sweep at a time among the workers of a queue (a lock in Redis)."""

    def __init__(self, send: Callable[[Orphan], None], broker: str, store: str | None,
                 queue: str, *, stale_after: float, every: float | None = None) -> None:
        super().__init__(daemon=True, name="runner-sweeper")
        self.send, self.broker, self.store_url, self.queue = send, broker, store, queue
        self.stale_after = stale_after
        self.every = every or max(1.0, stale_after / 2)
        self.done = threading.Event()

    def run(self) -> None:
        store = Store(self.store_url)
        try:
            while not self.done.wait(self.every):
                try:
                    self.sweep(store)
                except Exception as e:  # the broker or the database is away: next time
                    log.warning("looking for runs nobody works on failed: %s: %s",
                                type(e).__name__, str(e)[:200])
        finally:
            store.close()

    def _turn(self) -> bool:
        """This worker's turn to sweep (the others skip this round)."""
        if not self.broker.startswith(("redis://", "rediss://")):
            return True
        need("scale", "a Redis broker's sweep")
        import redis

        client = redis.Redis.from_url(self.broker, socket_timeout=10)
        try:
            key = f"runner:sweep:{self.queue}"
            return bool(client.set(key, "1", nx=True, px=int(self.every * 1000 * 0.9)))
        finally:
            client.close()

    def sweep(self, store: Store) -> list[Orphan]:
        if not self._turn():
            return []
        if not find_orphans(store, stale_after=self.stale_after, messages=None, limit=1):
            return []  # the broker is read only when the store has a run to ask about
        messages = broker_messages(self.broker, self.queue)
        sent = []
        for orphan in find_orphans(store, stale_after=self.stale_after, messages=messages):
            if not mark_handed_over(store, orphan):
                continue
            self.send(orphan)
            log.warning("run %s was %s with nobody working on it (%s); handed over again",
                        orphan.run_id, orphan.status,
                        "its message is lost" if orphan.status == "queued"
                        else "its worker is gone")
            sent.append(orphan)
        return sent

"""Who runs a recorded run: claiming it, fencing every write of the attempt, a heartbeat.

Whoever executes a run first *claims* it with a compare-and-set on its row: ``queued`` (or,
for ``runner resume``, ``failed``/``interrupted``) becomes ``running`` with the claimant as
``owner``; a ``running`` row is taken over only when its heartbeat is older than ``stale_after``
(its process died: a live one beats for every run it holds, :mod:`runner.heartbeats`), and
then the run is resumed from its journal. Every later write of the
attempt goes through :class:`FencedStore` and succeeds only while the attempt still owns the
run: an attempt taken for dead that comes back fails its next journal write, which comes before
any request that is not safe to repeat, so two attempts never both send it. These are the
parts; :func:`runner.resume.resume_run` is the one place that puts them together, for the
workers, the local scheduler, a batch's rows and ``runner resume``.
"""

from __future__ import annotations

import logging
import os
import secrets as _secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from runner.errors import RunnerError, StoreError
from runner.journal import ResumeState
from runner.store import Store
from runner.store_db import Conn
from runner.store_schema import assignments

STALE_AFTER = 30.0  # a running run whose heartbeat is older than this is taken to be dead
FINAL = ("passed", "failed", "interrupted", "errored", "skipped")

log = logging.getLogger("runner.ownership")


class LostOwnership(RunnerError):
    """This attempt's run was taken over by another worker (this one looked dead)."""


@dataclass
class Claim:
    """The outcome of claiming a run, and its journal when claimed."""
    outcome: str  # claimed | done | busy | lost | missing | waiting
    resume: ResumeState | None = None
    owner: str = ""


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_secrets.token_hex(3)}"


def claim_run(store: Store, run_id: str, owner: str, *,
              stale_after: float = STALE_AFTER, again: tuple[str, ...] = ()) -> Claim:
    """Take ``run_id`` for ``owner`` if it is queued, or running but dead; say why not else.

    ``again``: final statuses that may be claimed too (``runner resume`` takes a failed or
    interrupted run up again); a claimed run of these resumes from its journal.
    """
    row = store.get_run(run_id)
    if row is None:
        return Claim("missing")
    status, now = row["status"], time.time()
    if status in FINAL and status not in again:
        return Claim("done")
    if status == "pending":
        return Claim("waiting")  # its schedule's earlier run is still going
    # a compare-and-set: the row is taken only as it was read (its status, and a dead run's
    # heartbeat), so of two claimants at once one gets it
    sql = ("UPDATE runs SET status = 'running', owner = :owner, heartbeat = :now "
           "WHERE run_id = :run_id AND status = :was")
    params = {"owner": owner, "now": now, "run_id": run_id, "was": status}
    if status in ("running", "waiting"):  # waiting: a step waits for a callback or approval
        beat = row["heartbeat"]
        if beat is not None and now - beat < stale_after:
            return Claim("busy")
        sql += " AND heartbeat IS NULL" if beat is None else " AND heartbeat = :beat"
        params["beat"] = beat
    got = store.atomically(lambda c: c.execute(sql, params).rowcount)
    if got != 1:
        return Claim("lost")
    state = ResumeState() if status == "queued" else ResumeState.load(store, run_id)
    return Claim("claimed", state, owner)


class FencedStore(Store):
    """The store as one attempt of one run sees it: its writes to the run succeed only while
    the attempt still owns it; otherwise they raise :class:`LostOwnership`."""

    def __init__(self, base: Store, run_id: str, owner: str) -> None:  # shares base's db
        self.url = base.url
        self.db = base.db  # SQLite: with the base store's one writer thread
        self._beats: dict[str, float] = {}  # unused: every journal write touches the row
        self._lock = threading.Lock()
        self.run_id = run_id
        self.owner = owner

    def close(self) -> None:  # the database belongs to the base store
        pass

    def _touch(self, c: Conn, now: float) -> None:
        got = c.execute("UPDATE runs SET heartbeat = :now WHERE run_id = :run_id "
                        "AND owner = :owner",
                        {"now": now, "run_id": self.run_id, "owner": self.owner}).rowcount
        if got != 1:
            raise LostOwnership(f"run {self.run_id} was taken over by another worker",
                                hint="this worker looked dead to it; it resumes the run")

    def _alive(self, c: Conn, run_id: str, now: float, beat: bool) -> None:
        self._touch(c, now)  # every journal write checks the run is still this attempt's

    def update_run(self, run_id: str, **values: Any) -> None:
        sets, params = assignments(values)
        params.update(f_run_id=run_id, f_owner=self.owner)
        sql = f"UPDATE runs SET {sets} WHERE run_id = :f_run_id AND owner = :f_owner"
        if self.atomically(lambda c: c.execute(sql, params).rowcount) != 1:
            raise LostOwnership(f"run {run_id} was taken over by another worker")

    def heartbeat(self, run_id: str) -> None:
        now = time.time()
        self.atomically(lambda c: self._touch(c, now))


@contextmanager
def owned(store: Store, run_id: str, owner: str) -> Iterator[FencedStore]:
    """The store as the claimed attempt ``owner`` of ``run_id`` writes to it. (Its heartbeat
    is the process's, :mod:`runner.heartbeats`: :func:`runner.resume.resume_run` holds the
    run there, fenced or not.)"""
    yield FencedStore(store, run_id, owner)


def settle(store: Store, run_id: str, error: str, hint: str | None) -> bool:
    """A run whose attempt raised instead of ending: recorded ``failed`` if it is still
    ``running``, so it is never left running for nobody. True if the run is in the store; False
    also when that could not be written (another process took the run over meanwhile, or the
    store is away): then the caller's own error stands."""
    try:
        return store.fail_if_running(run_id, error, hint)
    except (LostOwnership, StoreError) as e:
        log.warning("run %s: could not record its failure: %s", run_id, e)
        return False

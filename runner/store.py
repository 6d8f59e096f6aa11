"""Run history and the step journal, in SQLite by default or any SQLAlchemy URL: the
:class:`Store`, what every run, worker, scheduler and ``runner history`` reads and writes.

Everything written is redacted first: a secret never reaches the store. Around the Store, each
in its own room: where the store is (:mod:`runner.store_url`), its tables and how a run's
values sit in them (:mod:`runner.store_schema`), bringing an older file up to date
(:mod:`runner.store_migrations`) and, on SQLite, the one writer thread of the process
(:mod:`runner.store_writer`). Each name is imported from its own room, not through this one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import bindparam, create_engine, event, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from runner.errors import InvalidInput
from runner.store_migrations import migrate
from runner.store_schema import (
    dump,
    journal,
    run_row,
    run_values,
    runs,
)
from runner.store_url import masked_url, to_url
from runner.store_writer import Writer

__all__ = ["HEARTBEAT_EVERY", "JournalEntry", "Store"]

T = TypeVar("T")
HEARTBEAT_EVERY = 5.0  # seconds: journal writes refresh a run's heartbeat at most this often


@dataclass
class JournalEntry:
    step_key: str
    event: str
    status: str | None
    data: dict[str, Any]
    at: float


def _insert_runs(values: list[dict[str, Any]]) -> Callable[[Connection], Any]:
    """An insert of ``values`` into runs, as an operation for :meth:`Store.atomically`."""
    return lambda c: c.execute(insert(runs), values)


class Store:
    """A run store. Thread-safe: loop iterations journal from several threads."""

    def __init__(self, location: str | None = None) -> None:
        self.url = to_url(location)
        try:
            self.engine: Engine = create_engine(self.url, future=True)
        except (SQLAlchemyError, ImportError) as e:
            raise InvalidInput(f"cannot open the run store {masked_url(self.url)}: {e}",
                               hint="give --store a file path or a SQLAlchemy URL") from None
        # SQLite: one writer thread for the process (runner.store_writer); other databases
        # take concurrent writers, each on a connection of the pool
        self._writer: Writer | None = None
        if self.url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
            self._writer = Writer(self.engine)
        self._lock = threading.Lock()
        self._beats: dict[str, float] = {}  # run_id -> when a write last refreshed its heartbeat
        try:
            migrate(self.engine)
        except InvalidInput:
            self.engine.dispose()
            raise
        except SQLAlchemyError as e:
            self.engine.dispose()
            cause = getattr(e, "orig", None) or e
            raise InvalidInput(f"cannot open the run store {masked_url(self.url)}: "
                               f"{type(cause).__name__}: {str(cause).strip()[:200]}",
                               hint="check that the database is up and the URL right, or give "
                               "--store a file path") from None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self.engine.dispose()

    def atomically(self, op: Callable[[Connection], T]) -> T:
        """Run ``op`` in a transaction of its own, or of the writer's; committed on return."""
        if self._writer is not None:
            return self._writer.run(op)
        with self.engine.begin() as c:
            return op(c)

    # -- runs ------------------------------------------------------------------------------
    def create_run(self, run_id: str, playbook: str, file: str, environment: str,
                   inputs: dict[str, Any], *, owner: str = "", dedup_key: str | None = None,
                   status: str = "running", fingerprint: dict[str, Any] | None = None,
                   batch_id: str | None = None, batch_row: int | None = None) -> bool:
        """Insert a run; False when ``dedup_key`` was already taken (it ran already)."""
        now = time.time()
        q = insert(runs).values(
            run_id=run_id, playbook=playbook, file=file, environment=environment,
            inputs=dump(inputs), status=status, started=now, heartbeat=now, owner=owner,
            dedup_key=dedup_key,
            fingerprint=dump(fingerprint) if fingerprint is not None else None,
            batch_id=batch_id, batch_row=batch_row)
        try:
            self.atomically(lambda c: c.execute(q))
        except IntegrityError:
            return False
        return True

    def create_runs(self, rows: list[dict[str, Any]]) -> set[str]:
        """Insert many runs at once (a batch's rows, ``queued``); each row takes the keyword
        arguments of :meth:`create_run`. Returns the ``dedup_key`` values that were already
        taken (those rows are not inserted)."""
        taken = set(self.dedup_keys_taken([r["dedup_key"] for r in rows if r.get("dedup_key")]))
        now = time.time()
        fresh = [r for r in rows if r.get("dedup_key") not in taken]
        values = [{
            "run_id": r["run_id"], "playbook": r["playbook"], "file": r["file"],
            "environment": r["environment"], "inputs": dump(r["inputs"]),
            "status": r.get("status", "queued"), "started": now, "heartbeat": now,
            "owner": r.get("owner", ""), "dedup_key": r.get("dedup_key"),
            "fingerprint": dump(r["fingerprint"]) if r.get("fingerprint") else None,
            "batch_id": r.get("batch_id"), "batch_row": r.get("batch_row")} for r in fresh]
        if not values:
            return taken
        try:
            self.atomically(_insert_runs(values))
        except IntegrityError:  # another process took some keys since: one at a time
            for r, v in zip(fresh, values, strict=True):
                try:
                    self.atomically(_insert_runs([v]))
                except IntegrityError:
                    taken.add(r["dedup_key"])
        return taken

    def dedup_keys_taken(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """The runs that hold any of ``keys`` as their ``dedup_key``, by key."""
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as c:
            for i in range(0, len(keys), 500):
                q = select(runs).where(runs.c.dedup_key.in_(keys[i:i + 500]))
                out.update({r["dedup_key"]: run_row(r) for r in c.execute(q).mappings()})
        return out

    def batch_runs(self, batch_id: str) -> list[dict[str, Any]]:
        """The runs of one batch, in the order of its rows."""
        q = select(runs).where(runs.c.batch_id == batch_id).order_by(runs.c.batch_row)
        with self.engine.connect() as c:
            return [run_row(r) for r in c.execute(q).mappings()]

    def update_run(self, run_id: str, **values: Any) -> None:
        if "finished" in values:  # a long-lived store (a worker's) forgets runs that ended
            self._beats.pop(run_id, None)
        q = update(runs).where(runs.c.run_id == run_id).values(**run_values(values))
        self.atomically(lambda c: c.execute(q))

    def heartbeat(self, run_id: str) -> None:
        self.update_run(run_id, heartbeat=time.time())

    def fail_if_running(self, run_id: str, error: str, hint: str | None) -> bool:
        """A run whose attempt raised instead of ending: recorded ``failed`` if it is still
        ``running`` (the engine could not record it), never left running for nobody. True
        if the run is in the store."""
        row = self.get_run(run_id)
        if row is not None and row["status"] == "running":
            self.update_run(run_id, status="failed", finished=time.time(), error=error,
                            hint=hint)
        return row is not None

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(runs).where(runs.c.run_id == run_id)).mappings().first()
        return run_row(row) if row else None

    def find_runs(self, *, playbook: str | None = None, status: str | None = None,
                  since: float | None = None, limit: int = 50) -> list[dict[str, Any]]:
        q = _filtered(select(runs), playbook, status, since)
        q = q.order_by(runs.c.started.desc()).limit(limit)
        with self.engine.connect() as c:
            return [run_row(r) for r in c.execute(q).mappings()]

    def count_runs(self, *, playbook: str | None = None, status: str | None = None,
                   since: float | None = None) -> int:
        """How many runs :meth:`find_runs` would list without its limit."""
        q = _filtered(select(func.count()).select_from(runs), playbook, status, since)
        with self.engine.connect() as c:
            return int(c.execute(q).scalar_one())

    # -- journal ---------------------------------------------------------------------------
    def write(self, run_id: str, step_key: str, event_name: str, status: str | None = None,
              data: dict[str, Any] | None = None) -> None:
        now = time.time()
        row = {"run_id": run_id, "step_key": step_key, "event": event_name, "status": status,
               "data": dump(data or {}), "at": now}
        with self._lock:  # the heartbeat is refreshed every few seconds rather than every row
            beat = now - self._beats.get(run_id, 0.0) >= HEARTBEAT_EVERY
            if beat:
                self._beats[run_id] = now

        def op(c: Connection) -> None:
            self._alive(c, run_id, now, beat)
            c.execute(_JOURNAL_INSERT, row)  # one statement object: SQLAlchemy caches its SQL

        self.atomically(op)

    def _alive(self, c: Connection, run_id: str, now: float, beat: bool) -> None:
        """With each journal write, in its transaction: the heartbeat says "alive"."""
        if beat:
            c.execute(_HEARTBEAT, {"b_run_id": run_id, "b_now": now})

    def entries(self, run_id: str) -> list[JournalEntry]:
        q = select(journal).where(journal.c.run_id == run_id).order_by(journal.c.id)
        with self.engine.connect() as c:
            return [JournalEntry(r["step_key"], r["event"], r["status"], json.loads(r["data"]),
                                 r["at"]) for r in c.execute(q).mappings()]


def _filtered(q: Any, playbook: str | None, status: str | None, since: float | None) -> Any:
    if playbook:
        q = q.where((runs.c.playbook == playbook) | (runs.c.file.like(f"%{playbook}%")))
    if status:
        q = q.where(runs.c.status == status)
    if since is not None:
        q = q.where(runs.c.started >= since)
    return q


_JOURNAL_INSERT = insert(journal)
_HEARTBEAT = update(runs).where(runs.c.run_id == bindparam("b_run_id")) \
    .values(heartbeat=bindparam("b_now"))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer; crash-safe
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()

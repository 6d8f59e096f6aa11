"""Run history and the step journal, in SQLite by default or any SQLAlchemy URL: the
:class:`Store`, what every run, worker, scheduler and ``runner history`` reads and writes.

Everything written is redacted first: a secret never reaches the store. Around the Store, each
in its own room: where the store is (:mod:`runner.store_url`), its tables and how a run's
values sit in them (:mod:`runner.store_schema`), bringing an older file up to date
(:mod:`runner.store_migrations`), what the store needs of a database (:mod:`runner.store_db`)
and the two that give it: a SQLite file through the stdlib (:mod:`runner.store_sqlite`, with
the process's one writer thread, :mod:`runner.store_writer`) and any other URL through
SQLAlchemy (:mod:`runner.store_sqlalchemy`, imported only for such a URL). Each name is
imported from its own room, not through this one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from runner.errors import InvalidInput, StoreError
from runner.extras import need
from runner.run_ids import new_run_id
from runner.store_db import Conn, Db, StoreConflict, in_list, like_literal
from runner.store_migrations import migrate
from runner.store_schema import assignments, dump, run_row
from runner.store_sqlite import SqliteDb
from runner.store_url import masked_url, sqlite_path, to_url

__all__ = ["HEARTBEAT_EVERY", "JournalEntry", "Store"]

T = TypeVar("T")
HEARTBEAT_EVERY = 5.0  # seconds: journal writes refresh a run's heartbeat at most this often


@dataclass
class JournalEntry:
    """One entry of a run's journal."""
    step_key: str
    event: str
    status: str | None
    data: dict[str, Any]
    at: float


_RUN_INSERT = ("INSERT INTO runs (run_id, playbook, file, environment, inputs, status, "
               "started, heartbeat, owner, dedup_key, fingerprint, batch_id, batch_row) "
               "VALUES (:run_id, :playbook, :file, :environment, :inputs, :status, :started, "
               ":heartbeat, :owner, :dedup_key, :fingerprint, :batch_id, :batch_row)")
_JOURNAL_INSERT = ("INSERT INTO journal (run_id, step_key, event, status, data, at) "
                   "VALUES (:run_id, :step_key, :event, :status, :data, :at)")
_HEARTBEAT = "UPDATE runs SET heartbeat = :b_now WHERE run_id = :b_run_id"


def _insert_runs(values: list[dict[str, Any]]) -> Callable[[Conn], None]:
    """An insert of ``values`` into runs, as an operation for :meth:`Store.atomically`."""
    return lambda c: c.executemany(_RUN_INSERT, values)


def open_db(url: str) -> Db:
    """The database of the store at ``url``: a SQLite file through the stdlib, anything else
    through SQLAlchemy, imported only then."""
    path = sqlite_path(url)
    if path is not None:
        return SqliteDb(path)
    need("scale", f"the run store {masked_url(url)}")
    from runner.store_sqlalchemy import SqlAlchemyDb  # a PostgreSQL store, on workers

    return SqlAlchemyDb(url)


class Store:
    """A run store. Thread-safe: loop iterations journal from several threads."""

    def __init__(self, location: str | None = None) -> None:
        self.url = to_url(location)
        try:
            self.db: Db = open_db(self.url)
        except (StoreError, ImportError, ValueError) as e:
            shown = masked_url(self.url)  # a URL it could not parse may be quoted whole
            raise InvalidInput(f"cannot open the run store {shown}: "
                               f"{str(e).replace(self.url, shown)}",
                               hint="give --store a file path or a SQLAlchemy URL") from None
        self._lock = threading.Lock()
        self._beats: dict[str, float] = {}  # run_id -> when a write last refreshed its heartbeat
        try:
            migrate(self.db)
        except InvalidInput:
            self.db.close()
            raise
        except StoreError as e:
            self.db.close()
            raise InvalidInput(f"cannot open the run store {masked_url(self.url)}: "
                               f"{e.kind}: {str(e).strip()[:200]}",
                               hint="check that the database is up and the URL right, or give "
                               "--store a file path") from None

    def close(self) -> None:
        self.db.close()

    def atomically(self, op: Callable[[Conn], T]) -> T:
        """Run ``op`` in a transaction of its own, or of the writer's; committed on return."""
        return self.db.atomically(op)

    # -- runs ------------------------------------------------------------------------------
    def create_run(self, run_id: str, playbook: str, file: str, environment: str,
                   inputs: dict[str, Any], *, owner: str = "", dedup_key: str | None = None,
                   status: str = "running", fingerprint: dict[str, Any] | None = None,
                   batch_id: str | None = None, batch_row: int | None = None) -> bool:
        """Insert a run; False when ``dedup_key`` was already taken (it ran already)."""
        now = time.time()
        row = {"run_id": run_id, "playbook": playbook, "file": file, "environment": environment,
               "inputs": dump(inputs), "status": status, "started": now, "heartbeat": now,
               "owner": owner, "dedup_key": dedup_key,
               "fingerprint": dump(fingerprint) if fingerprint is not None else None,
               "batch_id": batch_id, "batch_row": batch_row}
        try:
            self.atomically(lambda c: c.execute(_RUN_INSERT, row))
        except StoreConflict:
            if dedup_key is not None and self.dedup_keys_taken([dedup_key]):
                return False
            raise  # the run id is another run's (runner.run_ids): the caller takes a new one
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
        except StoreConflict:  # another process took some keys since: one at a time
            for r, v in zip(fresh, values, strict=True):
                if not self._insert_fresh(r, v):
                    taken.add(r["dedup_key"])
        return taken

    def _insert_fresh(self, r: dict[str, Any], v: dict[str, Any]) -> bool:
        """Insert one run of :meth:`create_runs`; False when its ``dedup_key`` is taken. A
        conflict on the run id alone (another process's run: runner.run_ids) is not a run that
        ran already: the row takes a new id, which ``r`` then holds."""
        for _ in range(8):
            try:
                self.atomically(_insert_runs([v]))
                return True
            except StoreConflict:
                if r.get("dedup_key") is not None and self.dedup_keys_taken([r["dedup_key"]]):
                    return False
                r["run_id"] = v["run_id"] = new_run_id()
        raise StoreConflict(f"no free run id for row {r.get('batch_row')} after 8 tries")

    def dedup_keys_taken(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """The runs that hold any of ``keys`` as their ``dedup_key``, by key."""
        out: dict[str, dict[str, Any]] = {}
        with self.db.connect() as c:
            for i in range(0, len(keys), 500):
                params: dict[str, Any] = {}
                some = in_list("key", keys[i:i + 500], params)
                rows = c.execute(f"SELECT * FROM runs WHERE dedup_key IN {some}", params)
                out.update({r["dedup_key"]: run_row(r) for r in rows})
        return out

    def batch_runs(self, batch_id: str) -> list[dict[str, Any]]:
        """The runs of one batch, in the order of its rows."""
        with self.db.connect() as c:
            return [run_row(r) for r in c.execute(
                "SELECT * FROM runs WHERE batch_id = :batch_id ORDER BY batch_row",
                {"batch_id": batch_id})]

    def update_run(self, run_id: str, **values: Any) -> None:
        if "finished" in values:  # a long-lived store (a worker's) forgets runs that ended
            self._beats.pop(run_id, None)
        sets, params = assignments(values)
        params["run_id"] = run_id
        self.atomically(lambda c: c.execute(f"UPDATE runs SET {sets} WHERE run_id = :run_id",
                                            params))

    def heartbeat(self, run_id: str) -> None:
        self.update_run(run_id, heartbeat=time.time())

    def fail_if_running(self, run_id: str, error: str, hint: str | None) -> bool:
        """A run whose attempt raised instead of ending: recorded ``failed`` if it is still
        ``running`` (the engine could not record it), never left running for nobody. True
        if the run is in the store."""
        row = self.get_run(run_id)
        if row is not None and row["status"] in ("running", "waiting"):
            self.update_run(run_id, status="failed", finished=time.time(), error=error,
                            hint=hint)
        return row is not None

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        with self.db.connect() as c:
            row = c.execute("SELECT * FROM runs WHERE run_id = :run_id",
                            {"run_id": run_id}).first()
        return run_row(row) if row else None

    def find_runs(self, *, playbook: str | None = None, status: str | None = None,
                  since: float | None = None, limit: int = 50) -> list[dict[str, Any]]:
        where, params = run_filter(playbook=playbook, status=status, since=since)
        params["limit"] = int(limit)
        with self.db.connect() as c:
            return [run_row(r) for r in c.execute(
                f"SELECT * FROM runs{where} ORDER BY started DESC LIMIT :limit", params)]

    def count_runs(self, *, playbook: str | None = None, status: str | None = None,
                   since: float | None = None) -> int:
        """How many runs :meth:`find_runs` would list without its limit."""
        where, params = run_filter(playbook=playbook, status=status, since=since)
        with self.db.connect() as c:
            return int(c.execute(f"SELECT count(*) AS n FROM runs{where}", params).scalar())

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

        def op(c: Conn) -> None:
            self._alive(c, run_id, now, beat)
            c.execute(_JOURNAL_INSERT, row)

        self.atomically(op)

    def _alive(self, c: Conn, run_id: str, now: float, beat: bool) -> None:
        """With each journal write, in its transaction: the heartbeat says "alive"."""
        if beat:
            c.execute(_HEARTBEAT, {"b_run_id": run_id, "b_now": now})

    def entries(self, run_id: str) -> list[JournalEntry]:
        with self.db.connect() as c:
            return journal_entries(c, run_id)


def journal_entries(c: Conn, run_id: str) -> list[JournalEntry]:
    """A run's journal, oldest first, on connection ``c`` (the store's, or ``runner ui``'s
    read-only one)."""
    rows = c.execute("SELECT step_key, event, status, data, at FROM journal "
                     "WHERE run_id = :run_id ORDER BY id", {"run_id": run_id})
    return [JournalEntry(r["step_key"], r["event"], r["status"], json.loads(r["data"]),
                         r["at"]) for r in rows]


def run_filter(*, playbook: str | None = None, status: str | None = None,
               since: float | None = None, schedule: str | None = None,
               batch: str | None = None) -> tuple[str, dict[str, Any]]:
    """The ``WHERE`` that picks runs (and its parameters): by playbook (its name, or a part of
    its file's path), status, start time, the schedule that fired it (``dedup_key``
    ``name@time``) and batch. :meth:`Store.find_runs`, :meth:`Store.count_runs` and ``runner
    ui``'s list all filter with it."""
    terms: list[str] = []
    params: dict[str, Any] = {}
    if playbook:
        terms.append("(playbook = :playbook OR file LIKE :file_like ESCAPE '\\')")
        params.update(playbook=playbook, file_like=f"%{like_literal(playbook)}%")
    if status:
        terms.append("status = :status")
        params["status"] = status
    if since is not None:
        terms.append("started >= :since")
        params["since"] = since
    if schedule:
        terms.append("dedup_key LIKE :schedule ESCAPE '\\'")
        params["schedule"] = like_literal(schedule) + "@%"
    if batch:
        terms.append("batch_id = :batch")
        params["batch"] = batch
    return (" WHERE " + " AND ".join(terms) if terms else ""), params

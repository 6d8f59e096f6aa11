"""The run store in a SQLite file, through the stdlib ``sqlite3``: the default store.

No SQLAlchemy here: importing it cost a command more than the command's own work (issue 14).
Each connection is in WAL mode (readers don't block the writer; crash-safe), with
``synchronous=NORMAL`` and a 10 s busy timeout, as the store was under SQLAlchemy. Connections
are pooled, one per thread at a time: a read takes one, a transaction takes one and opens it
with ``BEGIN IMMEDIATE``, so it holds the write lock from its first statement (a read that
later writes cannot find the file changed under it). Every write of the process goes through
one :class:`runner.store_writer.Writer` thread, which commits the waiting writes together.
The driver's exceptions become the store's kinds (:mod:`runner.store_db`) here.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from runner.errors import StoreError
from runner.store_db import Conn, Params, Rows, StoreConflict, StoreLocked, StoreUnavailable
from runner.store_writer import Writer

T = TypeVar("T")
BUSY_TIMEOUT = 10.0  # seconds a statement waits for another connection's write lock
IDLE = 8  # connections the pool keeps open between uses


def translated(e: sqlite3.Error) -> StoreError:
    """The store's kind of a ``sqlite3`` exception, with the driver's message."""
    text, kind = str(e), type(e).__name__
    if isinstance(e, sqlite3.IntegrityError):
        return StoreConflict(text, kind=kind)
    low = text.lower()
    if isinstance(e, sqlite3.OperationalError) and ("locked" in low or "busy" in low):
        return StoreLocked(text, kind=kind)
    if "unable to open" in low:
        return StoreUnavailable(text, kind=kind)
    return StoreError(text, kind=kind)


class SqliteConn:
    """A ``sqlite3`` connection as the store's :class:`runner.store_db.Conn`."""

    __slots__ = ("raw",)

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Params | None = None) -> Rows:
        try:
            cur = self.raw.execute(sql, params or {})
            names = [d[0] for d in cur.description] if cur.description else None
            rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()] if names else []
            return Rows(rows, cur.rowcount)
        except sqlite3.Error as e:
            raise translated(e) from e

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        try:
            self.raw.executemany(sql, rows)
        except sqlite3.Error as e:
            raise translated(e) from e


def _rollback(raw: sqlite3.Connection) -> None:
    """End a failed transaction; the error that failed it is the one to raise."""
    try:
        if raw.in_transaction:
            raw.rollback()
    except sqlite3.Error:
        pass


class SqliteDb:
    """A SQLite file holding a run store."""

    dialect = "sqlite"
    serial = "INTEGER"  # an INTEGER PRIMARY KEY is SQLite's rowid: it counts by itself
    for_update = ""  # BEGIN IMMEDIATE has taken the whole file's write lock already

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self.writer = Writer(self.begin)

    def _take(self) -> sqlite3.Connection:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's connections stay its
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                return self._idle.pop()
        try:
            raw = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None,
                                  check_same_thread=False)
        except sqlite3.Error as e:
            raise translated(e) from e
        try:
            raw.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
            raw.execute("PRAGMA journal_mode=WAL")
            raw.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as e:
            raw.close()
            raise translated(e) from e
        return raw

    def _give_back(self, raw: sqlite3.Connection) -> None:
        with self._lock:  # (one left in a transaction it could not end is not reused)
            if self._pid == os.getpid() and len(self._idle) < IDLE and not raw.in_transaction:
                self._idle.append(raw)
                return
        raw.close()

    @contextmanager
    def connect(self) -> Iterator[Conn]:
        raw = self._take()
        try:
            yield SqliteConn(raw)
        finally:
            self._give_back(raw)

    @contextmanager
    def begin(self) -> Iterator[Conn]:
        raw = self._take()
        try:
            try:
                raw.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                raise translated(e) from e
            try:
                yield SqliteConn(raw)
            except BaseException:
                _rollback(raw)
                raise
            try:
                raw.commit()
            except sqlite3.Error as e:
                _rollback(raw)
                raise translated(e) from e
        finally:
            self._give_back(raw)

    def atomically(self, op: Callable[[Conn], T]) -> T:
        return self.writer.run(op)

    def lock_migration(self, c: Conn) -> None:
        pass  # the transaction's BEGIN IMMEDIATE holds the file's write lock until it ends

    def columns(self, c: Conn, table: str) -> set[str]:
        return {r["name"] for r in c.execute(f"PRAGMA table_info({table})")}

    def close(self) -> None:
        self.writer.close()
        with self._lock:
            idle, self._idle = self._idle, []
        for raw in idle:
            raw.close()

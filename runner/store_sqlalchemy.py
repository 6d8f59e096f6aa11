"""The run store in a database named by a SQLAlchemy URL: PostgreSQL for workers and
schedulers on many hosts (``postgresql+psycopg://...``).

The only module that imports SQLAlchemy, and only a store URL that is not SQLite imports it
(:func:`runner.store.open_db`). The engine pools connections; writers run concurrently, each
transaction on a connection of its own. Queries arrive as the store's SQL text and run as
``text()``; SQLAlchemy's exceptions become the store's kinds (:mod:`runner.store_db`) here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from runner.errors import StoreError
from runner.store_db import Conn, Params, Rows, StoreConflict, StoreUnavailable

T = TypeVar("T")
MIGRATE_LOCK = 7423911  # pg_advisory_xact_lock key: "runner store migration"
_text = functools.lru_cache(maxsize=512)(text)  # one statement object per SQL text


def translated(e: SQLAlchemyError) -> StoreError:
    """The store's kind of a SQLAlchemy exception, with the driver's own message."""
    cause = getattr(e, "orig", None) or e
    message, kind = str(cause).strip(), type(cause).__name__
    if isinstance(e, IntegrityError):
        return StoreConflict(message, kind=kind)
    if isinstance(e, OperationalError | PoolTimeout) or (
            isinstance(e, DBAPIError) and e.connection_invalidated):
        return StoreUnavailable(message, kind=kind)
    return StoreError(message, kind=kind)


class _Conn:
    """A SQLAlchemy connection as the store's :class:`runner.store_db.Conn`."""

    __slots__ = ("raw",)

    def __init__(self, raw: Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Params | None = None) -> Rows:
        try:
            result = self.raw.execute(_text(sql), dict(params or {}))
            rows = [dict(r) for r in result.mappings()] if result.returns_rows else []
            return Rows(rows, result.rowcount)
        except SQLAlchemyError as e:
            raise translated(e) from e

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        try:
            self.raw.execute(_text(sql), [dict(r) for r in rows])
        except SQLAlchemyError as e:
            raise translated(e) from e


class SqlAlchemyDb:
    """A database named by a SQLAlchemy URL, holding a run store."""

    def __init__(self, url: str) -> None:
        try:
            self.engine = create_engine(url, future=True)
        except SQLAlchemyError as e:
            raise StoreError(str(e), kind=type(e).__name__) from None
        self.dialect = self.engine.dialect.name
        self.serial = "SERIAL" if self.dialect == "postgresql" else "INTEGER"
        self.for_update = " FOR UPDATE"

    @contextmanager
    def begin(self) -> Iterator[Conn]:
        try:
            with self.engine.begin() as c:
                yield _Conn(c)
        except SQLAlchemyError as e:  # the connection, or the commit
            raise translated(e) from e

    @contextmanager
    def connect(self) -> Iterator[Conn]:
        try:
            with self.engine.connect() as c:
                yield _Conn(c)
        except SQLAlchemyError as e:
            raise translated(e) from e

    def atomically(self, op: Callable[[Conn], T]) -> T:
        with self.begin() as c:
            return op(c)

    def lock_migration(self, c: Conn) -> None:
        if self.dialect == "postgresql":  # released when the transaction ends
            c.execute(f"SELECT pg_advisory_xact_lock({MIGRATE_LOCK})")

    def columns(self, c: Conn, table: str) -> set[str]:
        raw = c.raw if isinstance(c, _Conn) else None
        if raw is None:
            raise TypeError("a connection of this Db was expected")
        try:
            return {col["name"] for col in inspect(raw).get_columns(table)}
        except SQLAlchemyError as e:
            raise translated(e) from e

    def close(self) -> None:
        self.engine.dispose()

"""What the run store needs of a database, whichever it is: the :class:`Db` and :class:`Conn`
protocols, the rows they return, and the store's own error kinds.

Two databases satisfy it, each in its own room: a SQLite file through the stdlib ``sqlite3``
(:mod:`runner.store_sqlite`, the default store: nothing more to import, so ``runner run`` and
``runner history`` start fast) and any other SQLAlchemy URL (:mod:`runner.store_sqlalchemy`,
PostgreSQL for workers; SQLAlchemy is imported there only). Every query is SQL text with
named parameters (``:run_id``), the same text on both; where the two disagree (``FOR
UPDATE``, the migration's lock, listing a table's columns, the journal's counter column) the
Db says so, one small member each. Callers catch the error kinds below, never a driver's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

from runner.errors import StoreError

T = TypeVar("T")
Params = Mapping[str, Any]


class StoreConflict(StoreError):
    """A unique key is taken already (a run id, a ``dedup_key``, a schedule's row)."""


class StoreLocked(StoreError):
    """Another process holds the database's write lock for longer than the busy timeout."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened (PostgreSQL down, a file not openable)."""


class Rows:
    """What a statement returned: its rows as dicts (column -> value), and ``rowcount``, how
    many rows an ``UPDATE``, ``DELETE`` or ``INSERT`` touched."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[dict[str, Any]], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def first(self) -> dict[str, Any] | None:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        """The first column of the first row (None when there is no row)."""
        return next(iter(self.rows[0].values())) if self.rows else None


class Conn(Protocol):
    """A connection: inside :meth:`Db.begin`, in a transaction committed when the block ends."""

    def execute(self, sql: str, params: Params | None = None) -> Rows: ...

    def executemany(self, sql: str, rows: Sequence[Params]) -> None: ...


class Db(Protocol):
    """A database holding a run store."""

    dialect: str  # sqlite | postgresql | ...: for messages and the few places they differ
    serial: str  # the column type of the journal's counter: INTEGER (SQLite) or SERIAL
    for_update: str  # appended to a SELECT that locks its rows for the transaction, or ""

    def begin(self) -> AbstractContextManager[Conn]:
        """A transaction of its own: committed when the block ends, rolled back if it raises."""
        ...

    def connect(self) -> AbstractContextManager[Conn]:
        """A connection for reads."""
        ...

    def atomically(self, op: Callable[[Conn], T]) -> T:
        """Run ``op`` in a transaction (on SQLite the process's one writer's); committed on
        return."""
        ...

    def lock_migration(self, c: Conn) -> None:
        """Let one process at a time migrate the schema, until ``c``'s transaction ends."""
        ...

    def columns(self, c: Conn, table: str) -> set[str]:
        """The names of ``table``'s columns."""
        ...

    def close(self) -> None: ...


def like_literal(text: str) -> str:
    """``text`` as a literal inside a ``LIKE ... ESCAPE '\\'`` pattern: its ``%`` and ``_`` are
    characters, not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def in_list(name: str, values: Sequence[Any], params: dict[str, Any]) -> str:
    """``(:name_0, :name_1, ...)`` for ``column IN ...``, the values added to ``params``
    (neither driver expands a list into one parameter)."""
    names = [f"{name}_{i}" for i in range(len(values))]
    params.update(zip(names, values, strict=True))
    return "(" + ", ".join(f":{n}" for n in names) + ")" if names else "(NULL)"

"""Bringing a run store's schema up to date: one step per version, safe when many processes
open one new store at the same moment.

Workers and schedulers starting together all open the store: on PostgreSQL an advisory lock
lets one migrate while the others wait; on SQLite the loser of a race to create a table sees it
exists and tries again. A store newer than this runner is refused, never downgraded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert, inspect, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.schema import CreateIndex

from runner.errors import InvalidInput
from runner.store_schema import SCHEMA_VERSION, journal, meta_table, metadata, runs, schedule_state

MIGRATE_ATTEMPTS = 5
MIGRATE_LOCK = 7423911  # pg_advisory_xact_lock key: "runner store migration"


def migrate(engine: Engine) -> int:
    """Create or upgrade the schema; return the version now in place."""
    for attempt in range(MIGRATE_ATTEMPTS):
        try:
            return _migrate_once(engine)
        except (OperationalError, IntegrityError, ProgrammingError):
            if attempt == MIGRATE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _migrate_once(engine: Engine) -> int:
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATE_LOCK})"))
        metadata.create_all(c, tables=[meta_table])
        row = c.execute(select(meta_table.c.value).where(meta_table.c.key == "schema")).first()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise InvalidInput(f"the run store has schema version {version}, newer than this "
                               f"runner ({SCHEMA_VERSION})", hint="upgrade runner")
        for v in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[v](c)
        if version == 0:
            c.execute(insert(meta_table).values(key="schema", value=str(SCHEMA_VERSION)))
        elif version < SCHEMA_VERSION:
            c.execute(update(meta_table).where(meta_table.c.key == "schema")
                      .values(value=str(SCHEMA_VERSION)))
    return SCHEMA_VERSION


def _v1(conn: Any) -> None:
    metadata.create_all(conn, tables=[runs, journal])


def _v2(conn: Any) -> None:
    metadata.create_all(conn, tables=[schedule_state])


# v3: runs.fingerprint (a resume of a changed playbook is refused, runner.fingerprint) and
# runs.batch_id / batch_row (runner resume --batch finishes a killed batch)
V3_COLUMNS = ("fingerprint", "batch_id", "batch_row")


def _v3(conn: Any) -> None:
    have = {c["name"] for c in inspect(conn).get_columns("runs")}
    for name in V3_COLUMNS:
        if name in have:  # a store created at v1 by this runner has them already
            continue
        column = runs.c[name]
        kind = column.type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE runs ADD COLUMN {name} {kind}"))
    indexes = {i["name"] for i in inspect(conn).get_indexes("runs")}
    for index in runs.indexes:
        if index.name not in indexes and "batch_id" in index.columns:
            conn.execute(CreateIndex(index))


MIGRATIONS: dict[int, Callable[[Any], None]] = {1: _v1, 2: _v2, 3: _v3}

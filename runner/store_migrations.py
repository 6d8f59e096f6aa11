"""Bringing a run store's schema up to date: one step per version, safe when many processes
open one new store at the same moment.

A store already at this version is only read (``runner history`` never waits for a lock).
Otherwise workers and schedulers starting together all migrate: on PostgreSQL an advisory
lock lets one migrate while the others wait, on SQLite the transaction's ``BEGIN IMMEDIATE``
does (the file's write lock); each then finds the work done, and one that waited past the busy
timeout tries again. A store newer than this runner is refused, never downgraded. Each step
is SQL text through the store's :class:`runner.store_db.Db`, the same on both databases.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from runner.errors import InvalidInput, StoreError
from runner.store_db import Conn, Db
from runner.store_schema import (
    BATCH_INDEX,
    JOURNAL,
    JOURNAL_INDEX,
    META,
    RUNS,
    RUNS_INDEXES,
    SCHEDULE_STATE,
    SCHEMA_VERSION,
    V3_COLUMNS,
)

MIGRATE_ATTEMPTS = 5


VERSION = """SELECT value FROM runner_meta WHERE "key" = 'schema'"""


def migrate(db: Db) -> int:
    """Create or upgrade the schema; return the version now in place."""
    if _checked(_version(db)) == SCHEMA_VERSION:
        return SCHEMA_VERSION
    for attempt in range(MIGRATE_ATTEMPTS):
        try:
            return _migrate_once(db)
        except StoreError:
            if attempt == MIGRATE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _migrate_once(db: Db) -> int:
    with db.begin() as c:
        db.lock_migration(c)
        c.execute(META)
        version = int(c.execute(VERSION).scalar() or 0)
        _checked(version)
        for v in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[v](db, c)
        if version == 0:
            c.execute("""INSERT INTO runner_meta ("key", value) VALUES ('schema', :v)""",
                      {"v": str(SCHEMA_VERSION)})
        elif version < SCHEMA_VERSION:
            c.execute("""UPDATE runner_meta SET value = :v WHERE "key" = 'schema'""",
                      {"v": str(SCHEMA_VERSION)})
    return SCHEMA_VERSION


def _version(db: Db) -> int | None:
    """The store's schema version, read without a lock; None if it cannot be read (a new
    store, or no database: the migration says which)."""
    try:
        with db.connect() as c:
            return int(c.execute(VERSION).scalar() or 0)
    except StoreError:
        return None


def _checked(version: int | None) -> int | None:
    if version is not None and version > SCHEMA_VERSION:
        raise InvalidInput(f"the run store has schema version {version}, newer than this "
                           f"runner ({SCHEMA_VERSION})", hint="upgrade runner")
    return version


def _v1(db: Db, c: Conn) -> None:
    c.execute(RUNS)  # with the v3 columns: a store created at v1 by this runner has them
    for index in (*RUNS_INDEXES, BATCH_INDEX):
        c.execute(index)
    c.execute(JOURNAL.format(serial=db.serial))
    c.execute(JOURNAL_INDEX)


def _v2(db: Db, c: Conn) -> None:
    c.execute(SCHEDULE_STATE)


# v3: runs.fingerprint (a resume of a changed playbook is refused, runner.fingerprint) and
# runs.batch_id / batch_row (runner resume --batch finishes a killed batch)
def _v3(db: Db, c: Conn) -> None:
    have = db.columns(c, "runs")
    for name, kind in V3_COLUMNS.items():
        if name not in have:  # a store created at v1 by this runner has them already
            c.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
    c.execute(BATCH_INDEX)


MIGRATIONS: dict[int, Callable[[Db, Conn], None]] = {1: _v1, 2: _v2, 3: _v3}

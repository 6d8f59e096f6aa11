"""The run store's tables as runner defined them with SQLAlchemy, before the default store
moved to the stdlib ``sqlite3`` (issue 14): a frozen copy, to build the stores earlier
versions created and to compare what this one creates against them."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine, text
from sqlalchemy.engine import Engine

V3_COLUMNS = ("fingerprint", "batch_id", "batch_row")


def tables(version: int) -> MetaData:
    """The tables a runner of schema ``version`` created (1: runs, journal, runner_meta;
    2: and schedule_state; 3: runs with the fingerprint and batch columns)."""
    metadata = MetaData()
    Table("runner_meta", metadata,
          Column("key", String(64), primary_key=True),
          Column("value", String(255), nullable=False))
    v3 = [Column("fingerprint", Text), Column("batch_id", String(64), index=True),
          Column("batch_row", Integer)] if version >= 3 else []
    Table("runs", metadata,
          Column("run_id", String(64), primary_key=True),
          Column("playbook", String(255), nullable=False),
          Column("file", Text, nullable=False),
          Column("environment", String(255), nullable=False),
          Column("inputs", Text, nullable=False),
          Column("status", String(16), nullable=False, index=True),
          Column("started", Float, nullable=False, index=True),
          Column("finished", Float),
          Column("duration_ms", Float),
          Column("error", Text),
          Column("hint", Text),
          Column("failed_step", String(255)),
          Column("outputs", Text),
          Column("report", Text),
          Column("heartbeat", Float),
          Column("owner", String(255)),
          Column("dedup_key", String(255), unique=True),
          *v3)
    Table("journal", metadata,
          Column("id", Integer, primary_key=True, autoincrement=True),
          Column("run_id", String(64), nullable=False, index=True),
          Column("step_key", String(512), nullable=False),
          Column("event", String(16), nullable=False),
          Column("status", String(16)),
          Column("data", Text),
          Column("at", Float, nullable=False))
    if version >= 2:
        Table("schedule_state", metadata,
              Column("name", String(255), primary_key=True),
              Column("last_fire", Float, nullable=False),
              Column("updated", Float, nullable=False))
    return metadata


def engine_of(location: str) -> Engine:
    return create_engine(location if "://" in location else f"sqlite:///{location}")


def old_store(location: str, version: int) -> None:
    """A store as a runner of schema ``version`` left it, holding run ``r1`` with a journal
    entry (a path: a SQLite file; else a SQLAlchemy URL)."""
    engine = engine_of(location)
    try:
        with engine.begin() as c:
            tables(version).create_all(c)
            c.execute(text("""INSERT INTO runner_meta ("key", value) VALUES ('schema', :v)"""),
                      {"v": str(version)})
            c.execute(text("INSERT INTO runs (run_id, playbook, file, environment, inputs, "
                           "status, started) VALUES ('r1', 'p', '/p.yaml', 'sandbox', '{}', "
                           "'passed', 1.0)"))
            c.execute(text("INSERT INTO journal (run_id, step_key, event, status, data, at) "
                           "VALUES ('r1', 'steps/0', 'finished', 'passed', '{}', 1.5)"))
    finally:
        engine.dispose()


def shape(location: str) -> dict[str, object]:
    """What a store's tables are: each table's columns (name, type, nullable), primary key,
    unique constraints and indexes, as SQLAlchemy reads them back from the database."""
    from sqlalchemy import inspect

    engine = engine_of(location)
    try:
        seen = inspect(engine)
        out: dict[str, object] = {}
        for table in sorted(seen.get_table_names()):
            out[table] = {
                "columns": sorted((c["name"], str(c["type"]), c["nullable"])
                                  for c in seen.get_columns(table)),
                "primary_key": seen.get_pk_constraint(table)["constrained_columns"],
                "unique": sorted(tuple(u["column_names"])
                                 for u in seen.get_unique_constraints(table)),
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                  for i in seen.get_indexes(table)),
            }
        return out
    finally:
        engine.dispose()


def version_of(location: str) -> str:
    engine = engine_of(location)
    try:
        with engine.connect() as c:
            return str(c.execute(text(
                """SELECT value FROM runner_meta WHERE "key" = 'schema'""")).scalar_one())
    finally:
        engine.dispose()

"""The run store's schema is versioned: an older file is brought up to date with its runs kept,
a newer one is refused with a clear message, and nothing is lost either way."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, inspect, select, text, update

from runner.errors import InvalidInput
from runner.store import Store
from runner.store_migrations import MIGRATIONS
from runner.store_schema import SCHEMA_VERSION, meta_table, metadata, runs


def _version_1_file(path: Path) -> str:
    """A store as runner wrote it at schema version 1, holding one run."""
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.begin() as c:
        metadata.create_all(c, tables=[meta_table])
        MIGRATIONS[1](c)
        c.execute(insert(meta_table).values(key="schema", value="1"))
        c.execute(insert(runs).values(run_id="r1", playbook="p", file="/p.yaml",
                                      environment="sandbox", inputs="{}", status="passed",
                                      started=1.0))
    engine.dispose()
    return str(path)


def _tables(path: Path) -> set[str]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_version_1_store_is_migrated_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    _version_1_file(path)
    assert "schedule_state" not in _tables(path)
    store = Store(str(path))
    try:
        with store.engine.connect() as c:
            version = c.execute(select(meta_table.c.value)
                                .where(meta_table.c.key == "schema")).scalar_one()
        assert version == str(SCHEMA_VERSION) == "3"
        row = store.get_run("r1")
        assert row is not None and row["status"] == "passed"
    finally:
        store.close()
    assert "schedule_state" in _tables(path)


def test_a_store_from_a_newer_runner_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    Store(str(path)).close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as c:
        c.execute(update(meta_table).where(meta_table.c.key == "schema").values(value="99"))
    engine.dispose()
    before = path.read_bytes()
    with pytest.raises(InvalidInput) as caught:
        Store(str(path))
    assert "schema version 99, newer than this runner (3)" in caught.value.render()
    assert "upgrade runner" in caught.value.render()
    assert path.read_bytes() == before


def _version_2_file(path: Path) -> None:
    """A store as runner wrote it at schema version 2: the runs table without the v3 columns."""
    from sqlalchemy import Column, MetaData, Table

    from runner.store_migrations import V3_COLUMNS
    from runner.store_schema import journal, schedule_state

    old = MetaData()
    Table("runs", old, *[Column(c.name, c.type, primary_key=c.primary_key)
                         for c in runs.columns if c.name not in V3_COLUMNS])
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as c:
        metadata.create_all(c, tables=[meta_table, journal, schedule_state])
        old.create_all(c)
        c.execute(insert(meta_table).values(key="schema", value="2"))
        c.execute(text("INSERT INTO runs (run_id, playbook, file, environment, inputs, status, "
                       "started) VALUES ('r2', 'p', '/p.yaml', 'sandbox', '{}', 'failed', 2.0)"))
    engine.dispose()


def _columns(path: Path) -> set[str]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        return {c["name"] for c in inspect(engine).get_columns("runs")}
    finally:
        engine.dispose()


def test_a_version_2_store_gets_the_fingerprint_and_batch_columns(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    _version_2_file(path)
    assert not {"fingerprint", "batch_id", "batch_row"} & _columns(path)
    store = Store(str(path))
    try:
        row = store.get_run("r2")
        assert row is not None and row["status"] == "failed"
        assert (row["fingerprint"], row["batch_id"], row["batch_row"]) == (None, None, None)
        assert store.create_run("r3", "p", "/p.yaml", "sandbox", {}, fingerprint={"files": {}},
                                batch_id="b1", batch_row=4)
        new = store.get_run("r3")
        assert new is not None
        assert (new["fingerprint"], new["batch_id"], new["batch_row"]) == ({"files": {}}, "b1", 4)
    finally:
        store.close()
    assert {"fingerprint", "batch_id", "batch_row"} <= _columns(path)
    engine = create_engine(f"sqlite:///{path}")
    try:
        indexed = {tuple(i["column_names"]) for i in inspect(engine).get_indexes("runs")}
    finally:
        engine.dispose()
    assert ("batch_id",) in indexed
    Store(str(path)).close()  # opening it again changes nothing and fails nothing

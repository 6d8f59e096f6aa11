"""The run store's schema is versioned: an older store is brought up to date with its runs
kept, a newer one is refused with a clear message, and nothing is lost either way. Stores
that earlier runners created with SQLAlchemy (tests/store/old_schema.py), as SQLite files and
on the machine's real PostgreSQL, open and migrate unchanged; what this runner creates has
the same tables, columns, keys and indexes."""

from __future__ import annotations

import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import RUNNER

from runner.errors import InvalidInput
from runner.store import Store
from runner.store_schema import SCHEMA_VERSION
from tests.distributed.servers import PG_DSN
from tests.store.old_schema import engine_of, old_store, shape, tables, version_of


@pytest.fixture(params=["sqlite", "postgresql"])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes empty store locations: SQLite files, or new PostgreSQL databases (dropped
    afterwards)."""
    made: list[str] = []

    def new() -> str:
        if request.param == "sqlite":
            made.append(str(tmp_path / f"runs{len(made)}.db"))
            return made[-1]
        import psycopg

        name = f"runner_test_{secrets.token_hex(5)}"
        with psycopg.connect(PG_DSN, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

    if request.param == "postgresql":
        request.getfixturevalue("postgres")
    yield new
    if request.param == "postgresql":
        import psycopg

        with psycopg.connect(PG_DSN, autocommit=True) as c:
            for name in made:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _opened_and_used(where: str) -> None:
    """Open the store with this runner; its old run is there, and new runs go in whole."""
    store = Store(where)
    try:
        row = store.get_run("r1")
        assert row is not None and row["status"] == "passed"
        assert [e.step_key for e in store.entries("r1")] == ["steps/0"]
        assert (row["fingerprint"], row["batch_id"], row["batch_row"]) == (None, None, None)
        assert store.create_run("r3", "p", "/p.yaml", "sandbox", {}, fingerprint={"files": {}},
                                batch_id="b1", batch_row=4, dedup_key="k")
        assert not store.create_run("r4", "p", "/p.yaml", "sandbox", {}, dedup_key="k")
        store.write("r3", "steps/0", "sent", data={"method": "POST"})
        new = store.get_run("r3")
        assert new is not None
        assert (new["fingerprint"], new["batch_id"], new["batch_row"]) == ({"files": {}}, "b1", 4)
        assert [r["run_id"] for r in store.batch_runs("b1")] == ["r3"]
    finally:
        store.close()


@pytest.mark.parametrize("version", [1, 2, 3])
def test_a_store_an_earlier_runner_created_opens_and_migrates(
        new_store: Callable[[], str], version: int) -> None:
    where = new_store()
    old_store(where, version)
    _opened_and_used(where)
    assert version_of(where) == str(SCHEMA_VERSION) == "3"
    fresh = new_store()  # migrated, it has what this runner creates
    Store(fresh).close()
    assert shape(where) == shape(fresh)
    Store(where).close()  # opening it again changes nothing and fails nothing
    assert shape(where) == shape(fresh)


def test_a_new_store_has_the_tables_sqlalchemy_made(new_store: Callable[[], str]) -> None:
    """Created by this runner, on each database: the same tables, column types, keys and
    index names as SQLAlchemy's ``create_all`` of the earlier runner's tables."""
    where, reference = new_store(), new_store()
    Store(where).close()
    engine = engine_of(reference)
    with engine.begin() as c:
        tables(3).create_all(c)
    engine.dispose()
    assert shape(where) == shape(reference)


def test_a_store_from_a_newer_runner_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    Store(str(path)).close()
    with sqlite3.connect(path) as c:
        c.execute("""UPDATE runner_meta SET value = '99' WHERE "key" = 'schema'""")
    c.close()
    before = path.read_bytes()
    with pytest.raises(InvalidInput) as caught:
        Store(str(path))
    assert "schema version 99, newer than this runner (3)" in caught.value.render()
    assert "upgrade runner" in caught.value.render()
    assert path.read_bytes() == before


def test_a_store_in_memory_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        Store("sqlite://")
    assert "a SQLite store needs a file: sqlite:///PATH" in caught.value.render()


# another process takes the write lock of the store file and keeps it until it is killed
HOLDER = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
c.execute("BEGIN IMMEDIATE")
print("holding", flush=True)
time.sleep(600)
"""


def test_a_store_at_this_version_opens_without_the_write_lock(tmp_path: Path) -> None:
    """Opening a store that needs no migration only reads: ``runner history`` answers while
    another process (a batch, a backup) holds the file's write lock."""
    path = tmp_path / "runs.db"
    store = Store(str(path))
    assert store.create_run("r1", "p", "/p.yaml", "sandbox", {})
    store.close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        done = subprocess.run([str(RUNNER), "history", "--store", str(path)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "r1" in done.stdout
    finally:
        holder.kill()
        holder.wait()

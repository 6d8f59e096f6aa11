"""Many processes opening one new store at once: one of them creates the tables, none fails.

A fleet of workers and schedulers starting together against an empty PostgreSQL database (or
a new SQLite file) all run the migration at the same moment."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.store import Store
from runner.store_schema import SCHEMA_VERSION


def _open_at_once(url: str, n: int = 8) -> list[BaseException]:
    errors: list[BaseException] = []
    gate = threading.Barrier(n)

    def one() -> None:
        gate.wait()
        try:
            Store(url).close()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def _versions(url: str) -> list[str]:
    store = Store(url)
    try:
        with store.db.connect() as c:
            return [r["value"] for r in c.execute(
                """SELECT value FROM runner_meta WHERE "key" = 'schema'""")]
    finally:
        store.close()


@pytest.fixture()
def empty_pg(postgres: str) -> Iterator[str]:
    import psycopg

    name = f"runner_test_{secrets.token_hex(5)}"
    with psycopg.connect(postgres, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(postgres, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_first_open_of_a_postgres_store(empty_pg: str, round_: int) -> None:
    assert _open_at_once(empty_pg) == []
    assert _versions(empty_pg) == [str(SCHEMA_VERSION)]


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_first_open_of_a_sqlite_store(tmp_path: Path, round_: int) -> None:
    url = str(tmp_path / "runs.db")
    assert _open_at_once(url) == []
    assert _versions(url) == [str(SCHEMA_VERSION)]


def test_an_unreachable_store_is_a_clear_error_without_its_password() -> None:
    from runner.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        Store("postgresql+psycopg://runner:hunter2-secret@127.0.0.1:9/runs")
    text = caught.value.render()
    assert "cannot open the run store" in text and "Connection refused" in text
    assert "hunter2-secret" not in text and "runner:***@127.0.0.1:9" in text

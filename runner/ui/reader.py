"""The run store opened for reading only, for ``runner ui``: the run list with its filters
and pages, one run, a schedule's last runs, and the runs waiting or stuck.

A web view must never change what it shows, so it does not open the store as
:class:`runner.store.Store` does (that creates a missing file and brings an older schema up
to date): a SQLite file is opened ``mode=ro`` (the database refuses any write), PostgreSQL with
read-only sessions (``default_transaction_read_only``), any other URL through SQLAlchemy with
only ``SELECT`` sent. A missing store or an older schema is an error
that says which command writes or upgrades it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from runner.errors import InvalidInput, StoreError
from runner.extras import need
from runner.run_progress import so_far
from runner.store import journal_entries, run_filter
from runner.store_db import Conn, in_list, like_literal
from runner.store_schema import SCHEMA_VERSION, run_row
from runner.store_sqlite import SqliteConn
from runner.store_url import masked_url, sqlite_path, to_url

# the list's columns: every one but the report, which may be megabytes
LIST_COLUMNS = ("run_id, playbook, file, environment, status, started, finished, duration_ms, "
                "error, failed_step, heartbeat, owner, dedup_key, batch_id, batch_row")
STATUSES = ("queued", "pending", "running", "waiting", "parked", "passed", "failed",
            "interrupted", "errored", "skipped")


class Reads(Protocol):
    def connect(self) -> AbstractContextManager[Conn]: ...


class _SqliteReads:
    def __init__(self, path: str) -> None:
        self.uri = f"file:{quote(path)}?mode=ro"

    @contextmanager
    def connect(self) -> Iterator[Conn]:
        raw = sqlite3.connect(self.uri, uri=True, timeout=10, check_same_thread=False)
        try:
            raw.execute("PRAGMA query_only=ON")  # a second lock on the door
            yield SqliteConn(raw)  # a write is refused by SQLite itself (mode=ro)
        finally:
            raw.close()


@dataclass
class Filters:
    """The run list's filters, each None when not set."""

    playbook: str | None = None
    status: str | None = None
    since: float | None = None
    schedule: str | None = None  # runs fired by this schedule: dedup_key "name@time"
    batch: str | None = None  # batch_id

    def where(self) -> tuple[str, dict[str, Any]]:
        return run_filter(playbook=self.playbook, status=self.status, since=self.since,
                          schedule=self.schedule, batch=self.batch)


def _read_only(url: str) -> str:
    """A PostgreSQL URL whose sessions are read-only (the server refuses any write); any
    other URL as it is (the view sends it nothing but SELECT)."""
    if not url.startswith("postgresql") or "options=" in url:
        return url
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options={quote('-c default_transaction_read_only=on')}"


class Reader:
    """The store at ``location`` (a path or URL; None: ``$RUNNER_STORE`` or the default
    file), for reading."""

    def __init__(self, location: str | None) -> None:
        self.url = to_url(location)
        self.shown = masked_url(self.url)  # for pages and messages: never a password
        self.given = location is not None
        path = sqlite_path(self.url)
        if path is not None:
            if not os.path.exists(path):
                raise InvalidInput(f"no run store at {path}",
                                   hint="give --store the store `runner run` records to "
                                   "(or set RUNNER_STORE)")
            self.db: Reads = _SqliteReads(path)
        else:
            need("scale", f"runner ui on the run store {self.shown}")
            from runner.store_sqlalchemy import SqlAlchemyDb  # a PostgreSQL store only

            try:
                self.db = SqlAlchemyDb(_read_only(self.url))
            except (StoreError, ImportError, ValueError) as e:
                raise InvalidInput(f"cannot open the run store {self.shown}: "
                                   f"{str(e).replace(self.url, self.shown)[:200]}",
                                   hint="give --store a file path or a SQLAlchemy URL") from None
        self._check_schema()

    def _check_schema(self) -> None:
        try:
            with self.db.connect() as c:
                version = int(c.execute("SELECT value FROM runner_meta WHERE \"key\" = "
                                        "'schema'").scalar() or 0)
        except StoreError as e:
            raise InvalidInput(f"cannot read the run store {self.shown}: {str(e)[:200]}",
                               hint="check the path or URL; `runner history --store ...` "
                               "creates a store") from None
        if version != SCHEMA_VERSION:
            raise InvalidInput(f"the run store {self.shown} has schema version {version}, "
                               f"this runner reads {SCHEMA_VERSION}",
                               hint="`runner history --store ...` brings an older store up "
                               "to date; a newer one needs a newer runner")

    def runs(self, filters: Filters, *, offset: int = 0,
             limit: int = 50) -> tuple[list[dict[str, Any]], int]:
        """A page of the runs that match, newest first, and how many match in all."""
        where, params = filters.where()
        with self.db.connect() as c:
            total = int(c.execute(f"SELECT count(*) AS n FROM runs{where}", params).scalar())
            # run_id breaks ties: a batch's rows start at one time, and pages must not overlap
            rows = c.execute(f"SELECT {LIST_COLUMNS} FROM runs{where} "
                             "ORDER BY started DESC, run_id DESC LIMIT :limit OFFSET :offset",
                             {**params, "limit": int(limit), "offset": int(offset)})
        return list(rows), total

    def run(self, run_id: str) -> dict[str, Any] | None:
        """A run's row; one without a report also has ``progress`` (its journal so far)."""
        with self.db.connect() as c:
            row = c.execute("SELECT * FROM runs WHERE run_id = :run_id",
                            {"run_id": run_id}).first()
            if not row:
                return None
            out = run_row(row)
            if not out.get("report"):
                out["progress"] = so_far(out.get("fingerprint"), journal_entries(c, run_id))
        return out

    def schedule_runs(self, names: list[str], limit: int = 5) -> dict[str, list[dict[str, Any]]]:
        """Each schedule's last ``limit`` runs, newest first."""
        out: dict[str, list[dict[str, Any]]] = {}
        with self.db.connect() as c:
            for name in names:
                out[name] = list(c.execute(
                    f"SELECT {LIST_COLUMNS} FROM runs WHERE dedup_key LIKE :key ESCAPE '\\' "
                    "ORDER BY started DESC LIMIT :limit",
                    {"key": like_literal(name) + "@%", "limit": limit}))
        return out

    def stuck(self, *, before: float, limit: int = 500) -> list[dict[str, Any]]:
        """The runs waiting or stuck: ``queued`` or ``running`` with a heartbeat older than
        ``before`` (the rule of :mod:`runner.orphans`, with every owner: the broker is not
        asked, so a queued run's message may still be waiting for a worker)."""
        params: dict[str, Any] = {"before": before, "limit": limit}
        statuses = in_list("st", ["queued", "running", "waiting"], params)
        with self.db.connect() as c:
            return list(c.execute(
                f"SELECT {LIST_COLUMNS} FROM runs WHERE status IN {statuses} AND "
                "(heartbeat < :before OR heartbeat IS NULL) ORDER BY started LIMIT :limit",
                params))

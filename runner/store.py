"""Run history and the step journal, in SQLite by default or any SQLAlchemy URL.

Two tables and a version row:

    runs      one row per run: playbook, environment, inputs, status, timings, outputs, error,
              the full JSON report, a heartbeat (the owner is alive), an optional unique
              ``dedup_key`` (a schedule's fire time runs once), the ``fingerprint`` of the
              playbook it was started from, and the ``batch_id`` and ``batch_row`` of a run
              that is one row of ``runner run --inputs-from``
    journal   what happened to each step, written before the next step starts:
              ``sent`` before a request that is not safe to repeat goes out, ``answered`` when
              it came back, ``finished`` with the step's status and what it defined

Everything written is redacted first: a secret never reaches the store. The schema version is
kept in ``runner_meta``; :func:`migrate` brings an older file up to date.

The default store is ``$XDG_STATE_HOME/runner/runs.db`` (``~/.local/state/runner/runs.db``);
``--store`` or ``RUNNER_STORE`` give a path or a URL (``postgresql+psycopg://...``).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError

from runner.errors import InvalidInput
from runner.store_writer import Writer

T = TypeVar("T")
SCHEMA_VERSION = 3
HEARTBEAT_EVERY = 5.0  # seconds: journal writes refresh a run's heartbeat at most this often
metadata = MetaData()

meta_table = Table(
    "runner_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
)
runs = Table(
    "runs", metadata,
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
    # v3: what the run was started from (runner.fingerprint), and the batch it is a row of
    Column("fingerprint", Text),
    Column("batch_id", String(64), index=True),
    Column("batch_row", Integer),
)
journal = Table(
    "journal", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False, index=True),
    Column("step_key", String(512), nullable=False),
    Column("event", String(16), nullable=False),
    Column("status", String(16)),
    Column("data", Text),
    Column("at", Float, nullable=False),
)


def default_url() -> str:
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return str(Path(base) / "runner" / "runs.db")


def _masked(url: str) -> str:
    """The URL with its password hidden, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL we can parse: show no part of it that could hold a password
        return url.split("@")[-1]


def to_url(location: str | None) -> str:
    location = location or os.environ.get("RUNNER_STORE") or default_url()
    if "://" in location:
        return location
    path = Path(location).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


@dataclass
class JournalEntry:
    step_key: str
    event: str
    status: str | None
    data: dict[str, Any]
    at: float


def _insert_runs(values: list[dict[str, Any]]) -> Callable[[Connection], Any]:
    """An insert of ``values`` into runs, as an operation for :meth:`Store.atomically`."""
    return lambda c: c.execute(insert(runs), values)


class Store:
    """A run store. Thread-safe: loop iterations journal from several threads."""

    def __init__(self, location: str | None = None) -> None:
        self.url = to_url(location)
        try:
            self.engine: Engine = create_engine(self.url, future=True)
        except (SQLAlchemyError, ImportError) as e:
            raise InvalidInput(f"cannot open the run store {_masked(self.url)}: {e}",
                               hint="give --store a file path or a SQLAlchemy URL") from None
        # SQLite: one writer thread for the process (runner.store_writer); other databases
        # take concurrent writers, each on a connection of the pool
        self._writer: Writer | None = None
        if self.url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
            self._writer = Writer(self.engine)
        self._lock = threading.Lock()
        self._beats: dict[str, float] = {}  # run_id -> when a write last refreshed its heartbeat
        try:
            migrate(self.engine)
        except InvalidInput:
            self.engine.dispose()
            raise
        except SQLAlchemyError as e:
            self.engine.dispose()
            cause = getattr(e, "orig", None) or e
            raise InvalidInput(f"cannot open the run store {_masked(self.url)}: "
                               f"{type(cause).__name__}: {str(cause).strip()[:200]}",
                               hint="check that the database is up and the URL right, or give "
                               "--store a file path") from None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self.engine.dispose()

    def atomically(self, op: Callable[[Connection], T]) -> T:
        """Run ``op`` in a transaction of its own, or of the writer's; committed on return."""
        if self._writer is not None:
            return self._writer.run(op)
        with self.engine.begin() as c:
            return op(c)

    # -- runs ------------------------------------------------------------------------------
    def create_run(self, run_id: str, playbook: str, file: str, environment: str,
                   inputs: dict[str, Any], *, owner: str = "", dedup_key: str | None = None,
                   status: str = "running", fingerprint: dict[str, Any] | None = None,
                   batch_id: str | None = None, batch_row: int | None = None) -> bool:
        """Insert a run; False when ``dedup_key`` was already taken (it ran already)."""
        now = time.time()
        q = insert(runs).values(
            run_id=run_id, playbook=playbook, file=file, environment=environment,
            inputs=_dump(inputs), status=status, started=now, heartbeat=now, owner=owner,
            dedup_key=dedup_key,
            fingerprint=_dump(fingerprint) if fingerprint is not None else None,
            batch_id=batch_id, batch_row=batch_row)
        try:
            self.atomically(lambda c: c.execute(q))
        except IntegrityError:
            return False
        return True

    def create_runs(self, rows: list[dict[str, Any]]) -> set[str]:
        """Insert many runs at once (a batch's rows, ``queued``); each row takes the keyword
        arguments of :meth:`create_run`. Returns the ``dedup_key`` values that were already
        taken (those rows are not inserted)."""
        taken = set(self.dedup_keys_taken([r["dedup_key"] for r in rows if r.get("dedup_key")]))
        now = time.time()
        fresh = [r for r in rows if r.get("dedup_key") not in taken]
        values = [{
            "run_id": r["run_id"], "playbook": r["playbook"], "file": r["file"],
            "environment": r["environment"], "inputs": _dump(r["inputs"]),
            "status": r.get("status", "queued"), "started": now, "heartbeat": now,
            "owner": r.get("owner", ""), "dedup_key": r.get("dedup_key"),
            "fingerprint": _dump(r["fingerprint"]) if r.get("fingerprint") else None,
            "batch_id": r.get("batch_id"), "batch_row": r.get("batch_row")} for r in fresh]
        if not values:
            return taken
        try:
            self.atomically(_insert_runs(values))
        except IntegrityError:  # another process took some keys since: one at a time
            for r, v in zip(fresh, values, strict=True):
                try:
                    self.atomically(_insert_runs([v]))
                except IntegrityError:
                    taken.add(r["dedup_key"])
        return taken

    def dedup_keys_taken(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """The runs that hold any of ``keys`` as their ``dedup_key``, by key."""
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as c:
            for i in range(0, len(keys), 500):
                q = select(runs).where(runs.c.dedup_key.in_(keys[i:i + 500]))
                out.update({r["dedup_key"]: _run_row(r) for r in c.execute(q).mappings()})
        return out

    def batch_runs(self, batch_id: str) -> list[dict[str, Any]]:
        """The runs of one batch, in the order of its rows."""
        q = select(runs).where(runs.c.batch_id == batch_id).order_by(runs.c.batch_row)
        with self.engine.connect() as c:
            return [_run_row(r) for r in c.execute(q).mappings()]

    def update_run(self, run_id: str, **values: Any) -> None:
        if "finished" in values:  # a long-lived store (a worker's) forgets runs that ended
            self._beats.pop(run_id, None)
        q = update(runs).where(runs.c.run_id == run_id).values(**run_values(values))
        self.atomically(lambda c: c.execute(q))

    def heartbeat(self, run_id: str) -> None:
        self.update_run(run_id, heartbeat=time.time())

    def fail_if_running(self, run_id: str, error: str, hint: str | None) -> bool:
        """A run whose attempt raised instead of ending: recorded ``failed`` if it is still
        ``running`` (the engine could not record it), never left running for nobody. True
        if the run is in the store."""
        row = self.get_run(run_id)
        if row is not None and row["status"] == "running":
            self.update_run(run_id, status="failed", finished=time.time(), error=error,
                            hint=hint)
        return row is not None

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(runs).where(runs.c.run_id == run_id)).mappings().first()
        return _run_row(row) if row else None

    def find_runs(self, *, playbook: str | None = None, status: str | None = None,
                  since: float | None = None, limit: int = 50) -> list[dict[str, Any]]:
        q = _filtered(select(runs), playbook, status, since)
        q = q.order_by(runs.c.started.desc()).limit(limit)
        with self.engine.connect() as c:
            return [_run_row(r) for r in c.execute(q).mappings()]

    def count_runs(self, *, playbook: str | None = None, status: str | None = None,
                   since: float | None = None) -> int:
        """How many runs :meth:`find_runs` would list without its limit."""
        q = _filtered(select(func.count()).select_from(runs), playbook, status, since)
        with self.engine.connect() as c:
            return int(c.execute(q).scalar_one())

    # -- journal ---------------------------------------------------------------------------
    def write(self, run_id: str, step_key: str, event_name: str, status: str | None = None,
              data: dict[str, Any] | None = None) -> None:
        now = time.time()
        row = {"run_id": run_id, "step_key": step_key, "event": event_name, "status": status,
               "data": _dump(data or {}), "at": now}
        with self._lock:  # the heartbeat is refreshed every few seconds rather than every row
            beat = now - self._beats.get(run_id, 0.0) >= HEARTBEAT_EVERY
            if beat:
                self._beats[run_id] = now

        def op(c: Connection) -> None:
            self._alive(c, run_id, now, beat)
            c.execute(_JOURNAL_INSERT, row)  # one statement object: SQLAlchemy caches its SQL

        self.atomically(op)

    def _alive(self, c: Connection, run_id: str, now: float, beat: bool) -> None:
        """With each journal write, in its transaction: the heartbeat says "alive"."""
        if beat:
            c.execute(_HEARTBEAT, {"b_run_id": run_id, "b_now": now})

    def entries(self, run_id: str) -> list[JournalEntry]:
        q = select(journal).where(journal.c.run_id == run_id).order_by(journal.c.id)
        with self.engine.connect() as c:
            return [JournalEntry(r["step_key"], r["event"], r["status"], json.loads(r["data"]),
                                 r["at"]) for r in c.execute(q).mappings()]


def _filtered(q: Any, playbook: str | None, status: str | None, since: float | None) -> Any:
    if playbook:
        q = q.where((runs.c.playbook == playbook) | (runs.c.file.like(f"%{playbook}%")))
    if status:
        q = q.where(runs.c.status == status)
    if since is not None:
        q = q.where(runs.c.started >= since)
    return q


_JOURNAL_INSERT = insert(journal)
_HEARTBEAT = update(runs).where(runs.c.run_id == bindparam("b_run_id")) \
    .values(heartbeat=bindparam("b_now"))


def run_values(values: dict[str, Any]) -> dict[str, Any]:
    """Column values for a run's row: inputs, outputs and the report stored as JSON text."""
    return {k: _dump(v) if k in JSON_COLUMNS and not isinstance(v, str)
            else v for k, v in values.items()}


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


JSON_COLUMNS = ("inputs", "outputs", "report", "fingerprint")


def _run_row(row: Any) -> dict[str, Any]:
    out = dict(row)
    for key in JSON_COLUMNS:
        if out.get(key):
            out[key] = json.loads(out[key])
    return out


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer; crash-safe
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def migrate(engine: Engine) -> int:
    """Create or upgrade the schema; return the version now in place.

    Many processes may open one new store at the same moment (workers and schedulers starting
    together): on PostgreSQL an advisory lock lets one migrate while the others wait; on SQLite
    the loser of a race to create a table sees it exists and tries again.
    """
    for attempt in range(MIGRATE_ATTEMPTS):
        try:
            return _migrate_once(engine)
        except (OperationalError, IntegrityError, ProgrammingError):
            if attempt == MIGRATE_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


MIGRATE_ATTEMPTS = 5
MIGRATE_LOCK = 7423911  # pg_advisory_xact_lock key: "runner store migration"


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


# v2: where each schedule stands (runner.scheduler): the last fire time it has dealt with, so a
# restarted scheduler neither loses nor repeats one (the runs' unique dedup_key is the backstop)
schedule_state = Table(
    "schedule_state", metadata,
    Column("name", String(255), primary_key=True),
    Column("last_fire", Float, nullable=False),  # UTC epoch seconds
    Column("updated", Float, nullable=False),
)


def _v2(conn: Any) -> None:
    metadata.create_all(conn, tables=[schedule_state])


# v3: runs.fingerprint (a resume of a changed playbook is refused, runner.fingerprint) and
# runs.batch_id / batch_row (runner resume --batch finishes a killed batch)
V3_COLUMNS = ("fingerprint", "batch_id", "batch_row")


def _v3(conn: Any) -> None:
    from sqlalchemy import inspect
    from sqlalchemy.schema import CreateIndex

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


MIGRATIONS = {1: _v1, 2: _v2, 3: _v3}

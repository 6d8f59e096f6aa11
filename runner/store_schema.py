"""The run store's tables, its schema version, and how a run's values sit in their columns.

    runs            one row per run: playbook, environment, inputs, status, timings, outputs,
                    error, the full JSON report, a heartbeat (the owner is alive), an optional
                    unique ``dedup_key`` (a schedule's fire time runs once), the
                    ``fingerprint`` of the playbook it was started from, and the ``batch_id``
                    and ``batch_row`` of a run that is one row of ``runner run --inputs-from``
    journal         what happened to each step, written before the next step starts: ``sent``
                    before a request that is not safe to repeat goes out, ``answered`` when it
                    came back, ``finished`` with the step's status and what it defined
    schedule_state  where each schedule stands (:mod:`runner.scheduler`)
    runner_meta     the schema version (:mod:`runner.store_migrations` brings it up to date)

The tables are one room, below both the :class:`runner.store.Store` that reads and writes
them and the migrations that create them: each of those needs the tables, not the other.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text

SCHEMA_VERSION = 3
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
# v2: where each schedule stands (runner.scheduler): the last fire time it has dealt with, so a
# restarted scheduler neither loses nor repeats one (the runs' unique dedup_key is the backstop)
schedule_state = Table(
    "schedule_state", metadata,
    Column("name", String(255), primary_key=True),
    Column("last_fire", Float, nullable=False),  # UTC epoch seconds
    Column("updated", Float, nullable=False),
)

JSON_COLUMNS = ("inputs", "outputs", "report", "fingerprint")


def dump(value: Any) -> str:
    """A value as the store keeps it: JSON text (anything else as its ``str``)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def run_values(values: dict[str, Any]) -> dict[str, Any]:
    """Column values for a run's row: inputs, outputs and the report stored as JSON text."""
    return {k: dump(v) if k in JSON_COLUMNS and not isinstance(v, str)
            else v for k, v in values.items()}


def run_row(row: Any) -> dict[str, Any]:
    """A row of ``runs`` as a dict, its JSON columns parsed."""
    out = dict(row)
    for key in JSON_COLUMNS:
        if out.get(key):
            out[key] = json.loads(out[key])
    return out

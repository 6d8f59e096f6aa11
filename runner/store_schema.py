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
them and the migrations that create them: each of those needs the tables, not the other. They
are SQL text (no SQLAlchemy): the default SQLite store runs on the stdlib ``sqlite3``.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_VERSION = 3

# The tables as SQL text, the same on SQLite and PostgreSQL but for the journal's counter
# column (``{serial}``, the Db's). Table, column, constraint and index names and the types are
# those SQLAlchemy's ``create_all`` gave them before (a store created then opens unchanged).
META = """CREATE TABLE IF NOT EXISTS runner_meta (
    "key" VARCHAR(64) NOT NULL,
    value VARCHAR(255) NOT NULL,
    PRIMARY KEY ("key"))"""
RUNS = """CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR(64) NOT NULL,
    playbook VARCHAR(255) NOT NULL,
    file TEXT NOT NULL,
    environment VARCHAR(255) NOT NULL,
    inputs TEXT NOT NULL,
    status VARCHAR(16) NOT NULL,
    started FLOAT NOT NULL,
    finished FLOAT,
    duration_ms FLOAT,
    error TEXT,
    hint TEXT,
    failed_step VARCHAR(255),
    outputs TEXT,
    report TEXT,
    heartbeat FLOAT,
    owner VARCHAR(255),
    dedup_key VARCHAR(255),
    fingerprint TEXT,
    batch_id VARCHAR(64),
    batch_row INTEGER,
    PRIMARY KEY (run_id),
    UNIQUE (dedup_key))"""
# v3: what the run was started from (runner.fingerprint), and the batch it is a row of
V3_COLUMNS = {"fingerprint": "TEXT", "batch_id": "VARCHAR(64)", "batch_row": "INTEGER"}
RUNS_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_runs_status ON runs (status)",
    "CREATE INDEX IF NOT EXISTS ix_runs_started ON runs (started)",
)
BATCH_INDEX = "CREATE INDEX IF NOT EXISTS ix_runs_batch_id ON runs (batch_id)"
JOURNAL = """CREATE TABLE IF NOT EXISTS journal (
    id {serial} NOT NULL,
    run_id VARCHAR(64) NOT NULL,
    step_key VARCHAR(512) NOT NULL,
    event VARCHAR(16) NOT NULL,
    status VARCHAR(16),
    data TEXT,
    at FLOAT NOT NULL,
    PRIMARY KEY (id))"""
JOURNAL_INDEX = "CREATE INDEX IF NOT EXISTS ix_journal_run_id ON journal (run_id)"
# v2: where each schedule stands (runner.scheduler): the last fire time it has dealt with, so a
# restarted scheduler neither loses nor repeats one (the runs' unique dedup_key is the backstop)
SCHEDULE_STATE = """CREATE TABLE IF NOT EXISTS schedule_state (
    name VARCHAR(255) NOT NULL,
    last_fire FLOAT NOT NULL,
    updated FLOAT NOT NULL,
    PRIMARY KEY (name))"""

RUN_COLUMNS = ("run_id", "playbook", "file", "environment", "inputs", "status", "started",
               "finished", "duration_ms", "error", "hint", "failed_step", "outputs", "report",
               "heartbeat", "owner", "dedup_key", *V3_COLUMNS)

JSON_COLUMNS = ("inputs", "outputs", "report", "fingerprint")


def dump(value: Any) -> str:
    """A value as the store keeps it: JSON text (anything else as its ``str``)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def run_values(values: dict[str, Any]) -> dict[str, Any]:
    """Column values for a run's row: inputs, outputs and the report stored as JSON text."""
    return {k: dump(v) if k in JSON_COLUMNS and not isinstance(v, str)
            else v for k, v in values.items()}


def assignments(values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``col = :v_col, ...`` for an ``UPDATE runs SET``, and its parameters: the run's
    values as :func:`run_values` stores them. A name that is not a column of ``runs`` is a
    bug, refused before it reaches SQL text."""
    wrong = sorted(set(values) - set(RUN_COLUMNS))
    if wrong:
        raise ValueError(f"not columns of runs: {', '.join(wrong)}")
    stored = run_values(values)
    return (", ".join(f"{k} = :v_{k}" for k in stored),
            {f"v_{k}": v for k, v in stored.items()})


def run_row(row: Any) -> dict[str, Any]:
    """A row of ``runs`` as a dict, its JSON columns parsed."""
    out = dict(row)
    for key in JSON_COLUMNS:
        if out.get(key):
            out[key] = json.loads(out[key])
    return out

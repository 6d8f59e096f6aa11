"""Scenario ``heartbeats``: what the process's heartbeat costs with 10,000 runs held.

In-process, on a SQLite file and (when it answers) the machine's PostgreSQL: 10,000 ``running``
rows of one owner (a batch's rows share its one owner) held by :mod:`runner.heartbeats` as a
batch holds them (one hold per run), the pulse beating every ``EVERY`` seconds. Figures: the
process's CPU over ``WINDOW`` seconds, as % of one core (target: about 0, <= 2 %, as the parked
batch's); beats (statements) sent in the window (one a beat, not one per run); the wall of one
beat's statement on 10,000 rows (median of ``--reps``); threads the heartbeat added (1).
``--quick``: 1,000 rows, a 6 s window.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from bench import Outcome, log, median

RUNS = 10_000
WINDOW = 30.0
OWNER = "bench:1:batch"


def _pg_url() -> str | None:
    try:
        import psycopg

        name = f"runner_bench_{secrets.token_hex(4)}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True,
                             connect_timeout=3) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    except Exception as e:  # no server here: the SQLite figures stand alone
        log(f"  PostgreSQL not reachable ({type(e).__name__}): SQLite only")
        return None


def _drop(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _measure(url: str, runs: int, window: float, reps: int) -> dict[str, Any]:
    from runner import heartbeats
    from runner.store import Store

    store = Store(url)
    try:
        store.create_runs([{"run_id": f"r{i}", "playbook": "p", "file": "p.yaml",
                            "environment": "e", "inputs": {}, "status": "running",
                            "owner": OWNER} for i in range(runs)])
        walls = []
        for _ in range(reps):
            start = time.perf_counter()
            touched = store.atomically(lambda c: heartbeats.beat(c, [OWNER], [], time.time()))
            walls.append(time.perf_counter() - start)
            assert touched == runs
        threads = threading.active_count()
        holds = [heartbeats.hold(store, owner=OWNER) for _ in range(runs)]
        pulse = heartbeats.pulse_of(store)
        assert pulse is not None
        added = threading.active_count() - threads
        cpu0, beats0 = time.process_time(), pulse.beats
        time.sleep(window)
        cpu = time.process_time() - cpu0
        beats = pulse.beats - beats0
        for h in holds:
            h.release()
        return {"cpu_pct": 100 * cpu / window, "beats": beats, "beat_ms": 1000 * median(walls),
                "threads_added": added}
    finally:
        store.close()


def run(args: Any) -> Outcome:
    import tempfile
    from pathlib import Path

    runs, window = (1000, 6.0) if args.quick else (RUNS, WINDOW)
    out = Outcome("heartbeats", f"The process's heartbeat with {runs:,} runs held")
    with tempfile.TemporaryDirectory() as tmp:
        stores = {"sqlite": str(Path(tmp) / "runs.db")}
        pg = _pg_url()
        if pg:
            stores["postgresql"] = pg
        try:
            for kind, url in stores.items():
                log(f"  {kind}: {runs:,} runs held for {window:g} s")
                got = _measure(url, runs, window, args.reps)
                out.details[kind] = got
                out.add(f"{kind}: CPU with {runs:,} runs held", round(got["cpu_pct"], 3),
                        "% of a core", target=("<=", 2.0))
                out.add(f"{kind}: statements in {window:g} s (a beat every 5 s)",
                        got["beats"], "", target=("<=", window / 5 + 1))
                out.add(f"{kind}: one beat's UPDATE of {runs:,} rows", round(got["beat_ms"], 1),
                        "ms")
                out.add(f"{kind}: threads the heartbeat adds", got["threads_added"], "",
                        target=("<=", 1))
        finally:
            if pg:
                _drop(pg)
    return out

"""Scenario 3, many runs at once: 500 Automatos distributions, one run per machine.

The inputs are a JSON-lines file of 500 rows (``{"hostname": ..., "department": ...}``) read
with :func:`runner.batch_rows.read_rows`; :func:`runner.batch.run_batch` runs
``playbooks/automatos/distribute-package.yaml`` once per row (auth, find the machine, create
the distribution, poll until delivered, assert), ``concurrency`` runs at a time, all against one
shared sandbox whose Automatos simulator knows the 500 machines. A job takes 2 s in the
simulator (schedule 0.5 s + run 1.5 s). Each run is its own run result with its own run id.

Figures: wall time of the whole batch (target <= 20 s), peak memory of the process
(``ru_maxrss``, target <= 400 MB), CPU seconds, and the passed/failed counts.

A third variant is the command a user types, as a whole process:
``runner run distribute-package.yaml --inputs-from rows.jsonl --concurrency 250 --env lab.yaml
--store runs.db -q``, against one Automatos simulator served by this (the bench) process, so
the runner process has its own GIL; its peak memory is the child's ``ru_maxrss``.
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import (
    ROOT,
    Outcome,
    PeakRSS,
    log,
    max_rss_mb,
    private_store,
)

PLAYBOOK = ROOT / "playbooks" / "automatos" / "distribute-package.yaml"
RUNS = 500
CONCURRENCY = 250
JOB = {"schedule_seconds": 0.5, "run_seconds": 1.5}  # 2 s per job


def machines(n: int) -> list[dict[str, str]]:
    departments = ("DEV", "OPS", "Comercial")
    return [{"machineId": f"M{i:06d}", "hostname": f"HOST{i:05d}",
             "department": departments[i % len(departments)]} for i in range(n)]


def write_rows(path: Path, ms: list[dict[str, str]]) -> None:
    with path.open("w") as f:
        for m in ms:
            f.write(json.dumps({"hostname": m["hostname"], "department": m["department"]}) + "\n")


def one_batch(rows: list[dict[str, Any]], ms: list[dict[str, str]], concurrency: int,
              **kw: Any) -> dict[str, Any]:
    from runner.batch import run_batch
    from runner.sandbox import Sandbox

    box = Sandbox({"automatos": {"machines": ms, **JOB}})
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        with PeakRSS(interval=0.01) as mem:
            summary = run_batch(PLAYBOOK, env="sandbox", rows=rows, concurrency=concurrency,
                                sandbox=box, **kw)
    finally:
        box.stop()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    sim = box.simulators["automatos"]
    ids = [i for i in summary.run_ids if i]
    created = {d["machineId"] for d in sim.distributions}
    return {
        "summary": summary, "wall": wall, "cpu": cpu, "peak_delta_mb": mem.delta_mb,
        "requests": dict(sim.calls), "distinct_run_ids": len(set(ids)),
        "machines_distributed": len(created),
    }


def one_command(rows_file: Path, ms: list[dict[str, str]], concurrency: int,
                tmp: Path) -> dict[str, Any]:
    """The batch as ``runner run --inputs-from``, a process of its own."""
    import os
    import subprocess
    import sys

    from runner.builtin.automatos.simulator import AutomatosSimulator

    sim = AutomatosSimulator(machines=ms, **JOB)
    sim.start()
    env = tmp / "lab.yaml"
    env.write_text(f"connectors:\n  automatos:\n    base_url: {sim.url}\n"
                   f"    automatos_id: \"{sim.automatos_id}\"\n"
                   "    automatos_key: {secret: AUTOMATOS_KEY}\n")
    store = tmp / "cli-runs.db"
    runner = Path(sys.executable).with_name("runner")
    wall0 = time.perf_counter()
    try:
        done = subprocess.run(
            [str(runner), "run", str(PLAYBOOK), "--inputs-from", str(rows_file),
             "--concurrency", str(concurrency), "--env", str(env), "--store", str(store), "-q"],
            capture_output=True, text=True, timeout=300,
            env={**os.environ, "AUTOMATOS_KEY": sim.automatos_key})
        wall = time.perf_counter() - wall0
    finally:
        sim.stop()
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary_line = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
    if done.returncode != 0:
        raise AssertionError(f"runner run --inputs-from exited {done.returncode}: "
                             f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return {"wall": wall, "cpu": child.ru_utime + child.ru_stime,
            "peak_mb": child.ru_maxrss / 1024, "summary_line": summary_line,
            "machines_distributed": len({d["machineId"] for d in sim.distributions}),
            "requests": dict(sim.calls)}


def run(opts: Any) -> Outcome:
    from runner.batch_rows import read_rows

    n = 100 if opts.quick else RUNS
    concurrency = min(CONCURRENCY, n)
    out = Outcome("many_runs", f"{n} distribution runs (2 s jobs), {concurrency} at a time")
    ms = machines(n)
    variants: dict[str, dict[str, Any]] = {"runner": {}, "runner (no store)": {"store": False}}
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp, private_store(Path(tmp)):
        rows_file = Path(tmp) / "rows.jsonl"
        write_rows(rows_file, ms)
        rows = read_rows(rows_file)
        assert len(rows) == n
        for name, kw in variants.items():
            log(f"many_runs: {name}: {n} runs, concurrency {concurrency}")
            results[name] = one_batch(rows, ms, concurrency, **kw)
        log(f"many_runs: runner run --inputs-from: {n} runs, concurrency {concurrency}")
        command = one_command(rows_file, ms, concurrency, Path(tmp))
    peak = max_rss_mb()
    for name, r in results.items():
        s = r["summary"]
        out.add(f"{name}: all {n} runs done", r["wall"], "s", target=("<=", 20.0))
        out.add(f"{name}: passed", s.passed, "runs", target=(">=", n))
        out.add(f"{name}: failed", s.failed, "runs", target=("<=", 0))
        out.add(f"{name}: CPU time (process)", r["cpu"], "s",
                note="engine, simulator and all threads: one GIL")
        out.add(f"{name}: one run, p50", s.percentile_ms(0.5) / 1000, "s")
        out.add(f"{name}: one run, p95", s.percentile_ms(0.95) / 1000, "s")
        if r["distinct_run_ids"] != n or r["machines_distributed"] != s.passed:
            raise AssertionError(f"{name}: {r['distinct_run_ids']} distinct run ids and "
                                 f"{r['machines_distributed']} machines for {n} rows")
    out.add("peak memory (ru_maxrss, whole process)", peak, "MB", target=("<=", 400.0))
    out.add("`runner run --inputs-from` (a process): all runs done", command["wall"], "s",
            target=("<=", 20.0), note=command["summary_line"])
    out.add("`runner run --inputs-from`: CPU time of the process", command["cpu"], "s")
    out.add("`runner run --inputs-from`: peak memory (ru_maxrss)", command["peak_mb"], "MB",
            target=("<=", 400.0))
    if command["machines_distributed"] != n:
        raise AssertionError(f"runner run --inputs-from distributed to "
                             f"{command['machines_distributed']} machines for {n} rows")
    out.details = {
        "runs": n, "concurrency": concurrency, "job_seconds": sum(JOB.values()),
        "playbook": str(PLAYBOOK.relative_to(ROOT)), "rows": "JSON lines via read_rows",
        "peak_rss_mb": round(peak, 1),
        "command": {k: (round(v, 2) if isinstance(v, float) else v)
                    for k, v in command.items()},
        "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "variants": {
            name: {
                "wall_seconds": round(r["wall"], 2), "cpu_seconds": round(r["cpu"], 2),
                "peak_rss_delta_mb": round(r["peak_delta_mb"], 1),
                "simulator_requests": r["requests"],
                "summary": {k: v for k, v in r["summary"].to_dict().items() if k != "run_ids"},
                "first_run_ids": r["summary"].run_ids[:3],
            } for name, r in results.items()
        },
    }
    return out

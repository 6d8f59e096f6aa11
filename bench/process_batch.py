"""Scenario ``process_batch``: does the CPU a batch spends on one run grow with the batch?

``runner run bench/playbooks/process-one.yaml --inputs-from rows.jsonl --concurrency 10 --env
env.yaml -q`` as a process of its own, with 10, 100 and 1,000 rows (``--quick``: 10 and 50;
each row one run: a GET with a bearer token, a filter extract, an assert) against
bench/aioserver.py, and a 1-row batch in the same rounds: the process's fixed cost (start-up,
imports, the store's creation). Each batch process gets a fresh run store, so every size starts
alike and a round does not see the runs of the one before.

CPU per row at N rows = (CPU of the N-row batch - CPU of the 1-row batch) / (N - 1), from
``os.wait4`` of each child (user + sys), median over the rounds; the 1-row batch runs three
times a round and counts with its median, as start-up CPU varies by +-70 ms on a shared
machine. The figure with the target is the ratio of the largest batch's CPU per row to the
second size's (100 rows): <= 1.2 (issue 14 asks that the CPU per run not grow with the batch).
The 10-row figure is reported without a target: its per-row value is the difference of two
start-ups divided by 9, and their noise is larger than the 10 rows' own CPU (~50 ms).
Wall time and peak memory (GNU time's ``%M``, NaN without it) are reported too.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bench import PLAYBOOKS, ROOT, Outcome, log, median
from bench.processes import Child, child_env, interleaved, run_child, runner_cmd, workplace

PLAYBOOK = str((PLAYBOOKS / "process-one.yaml").relative_to(ROOT))
CONCURRENCY = 10
LIMIT = 1.2
_SUMMARY = re.compile(r"(\d+) passed, (\d+) failed")


def run(opts: Any) -> Outcome:
    sizes = (10, 50) if opts.quick else (10, 100, 1000)
    out = Outcome("process_batch", f"runner run --inputs-from, {'/'.join(map(str, sizes))} rows"
                                   f" at --concurrency {CONCURRENCY}: CPU per row")
    with workplace() as (server, tmp):
        env_file = str(tmp / "env.yaml")
        files = {}
        for n in (1, *sizes):
            files[n] = tmp / f"rows-{n}.jsonl"
            files[n].write_text("".join(json.dumps({"id": i}) + "\n" for i in range(n)))
        stores = iter(range(10**6))

        def batch(n: int) -> Child:
            env = child_env(tmp, token=server.token, store=tmp / f"runs-{next(stores)}.db")
            child = run_child(runner_cmd("run", PLAYBOOK, "--env", env_file, "-q",
                                         "--inputs-from", str(files[n]),
                                         "--concurrency", str(CONCURRENCY)), env,
                              memory=True)
            m = _SUMMARY.search(child.output)
            if not m or (int(m[1]), int(m[2])) != (n, 0):
                raise AssertionError(f"{n} rows: the batch said {m[0] if m else child.output!r}")
            return child

        def start_cost() -> Child:  # three 1-row batches: the one of median CPU
            return sorted((batch(1) for _ in range(3)), key=lambda c: c.cpu)[1]

        variants: dict[str, Any] = {"1 rows": start_cost}
        variants.update({f"{n} rows": (lambda n=n: batch(n)) for n in sizes})
        log("process_batch: warm-up")
        batch(1)
        before = server.stats()["items"]
        log(f"process_batch: {opts.reps} interleaved rounds of {len(variants)} processes")
        runs: dict[str, list[Child]] = interleaved(variants, opts.reps)
        sent = server.stats()["items"] - before
    if sent != opts.reps * (3 + sum(sizes)):
        raise AssertionError(f"the server answered {sent} item reads, "
                             f"expected {opts.reps * (3 + sum(sizes))}")

    fixed = [c.cpu for c in runs["1 rows"]]
    per_row: dict[int, float] = {}
    for n in sizes:
        per_row[n] = median([(c.cpu - f) / (n - 1) for c, f in zip(
            runs[f"{n} rows"], fixed, strict=True)]) * 1e3
    out.add("1-row batch: CPU (the fixed cost)", median(fixed), "s")
    for n in sizes:
        out.add(f"{n:,} rows: CPU per row (less the 1-row batch)", per_row[n], "ms")
    base = sizes[1] if len(sizes) > 2 else sizes[0]
    out.add(f"CPU per row, {sizes[-1]:,} rows / {base:,} rows",
            per_row[sizes[-1]] / per_row[base], "x", target=("<=", LIMIT))
    if base != sizes[0]:
        out.add(f"CPU per row, {sizes[-1]:,} rows / {sizes[0]:,} rows (start-up noise)",
                per_row[sizes[-1]] / per_row[sizes[0]], "x")
    for n in sizes:
        out.add(f"{n:,} rows: wall", median([c.wall for c in runs[f"{n} rows"]]), "s")
    out.add(f"{sizes[-1]:,} rows: peak RSS", median([c.rss_mb for c in runs[f"{sizes[-1]} rows"]]),
            "MB")
    out.details = {
        "sizes": [1, *sizes], "rounds": opts.reps, "concurrency": CONCURRENCY,
        "command": f"runner run {PLAYBOOK} --env env.yaml -q --inputs-from rows-N.jsonl "
                   f"--concurrency {CONCURRENCY} (a fresh store per process)",
        "cpu_per_row_ms": {n: round(v, 3) for n, v in per_row.items()},
        "cpu_per_row_ms_with_start": {n: round(median([c.cpu / n for c in runs[f"{n} rows"]])
                                               * 1e3, 3) for n in sizes},
        "cpu_seconds": {k: [round(c.cpu, 3) for c in v] for k, v in runs.items()},
        "wall_seconds": {k: [round(c.wall, 3) for c in v] for k, v in runs.items()},
        "median_peak_rss_mb": {k: round(median([c.rss_mb for c in v]), 1)
                               for k, v in runs.items()},
    }
    return out

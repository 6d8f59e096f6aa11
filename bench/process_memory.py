"""Scenario ``process_memory``: is the peak memory of ``runner run`` flat in the number of calls?

``runner run bench/playbooks/process-calls.yaml --env env.yaml -q -i n=N`` as a process of its
own at N = 1,000 and N = 10,000 (``--quick``: 100 and 1,000) against bench/aioserver.py, in
interleaved rounds; the peak memory is the child's ``ru_maxrss`` as GNU time reports it
(``/usr/bin/time -f %M``; see bench/processes.py for why not ``os.wait4`` from the bench).
The raw scripts at the smaller N stand beside it as the floor of a Python process doing the
same requests (their memory does not grow with N: they keep nothing).
Targets (issue 14): <= 60 MB at 10,000 calls; "flat": the growth is reported, in MB and as
the ratio of the two peaks.
"""

from __future__ import annotations

from typing import Any

from bench import PLAYBOOKS, ROOT, Outcome, log, median
from bench.processes import (
    BASELINES,
    GNU_TIME,
    Child,
    child_env,
    interleaved,
    run_child,
    runner_cmd,
    script_cmd,
    workplace,
)

PLAYBOOK = str((PLAYBOOKS / "process-calls.yaml").relative_to(ROOT))
LIMIT_MB = 60.0


def run(opts: Any) -> Outcome:
    small, big = (100, 1000) if opts.quick else (1000, 10000)
    out = Outcome("process_memory", f"peak RSS of runner run at {small:,} and {big:,} calls")
    if GNU_TIME is None:
        raise RuntimeError("process_memory needs GNU time (/usr/bin/time): apt-get install -y time")
    with workplace() as (server, tmp):
        env = child_env(tmp)
        env_file = str(tmp / "env.yaml")
        variants: dict[str, Any] = {}
        for n in (small, big):
            variants[f"runner, {n}"] = (lambda n=n: run_child(
                runner_cmd("run", PLAYBOOK, "--env", env_file, "-q", "-i", f"n={n}"), env,
                memory=True))
        for label in BASELINES:
            variants[f"{label}, {small}"] = (lambda label=label: run_child(
                script_cmd(label, server.url, small), env, memory=True))
        log("process_memory: warm-up")
        run_child(runner_cmd("run", PLAYBOOK, "--env", env_file, "-q", "-i", "n=10"), env)
        log(f"process_memory: {opts.reps} interleaved rounds of {len(variants)} processes")
        runs: dict[str, list[Child]] = interleaved(variants, opts.reps)

    rss = {k: [c.rss_mb for c in v] for k, v in runs.items()}
    med = {k: median(v) for k, v in rss.items()}
    out.add(f"runner run, {small:,} calls: peak RSS", med[f"runner, {small}"], "MB")
    out.add(f"runner run, {big:,} calls: peak RSS", med[f"runner, {big}"], "MB",
            target=("<=", LIMIT_MB) if not opts.quick else None)
    growth = [b - a for a, b in zip(rss[f"runner, {small}"], rss[f"runner, {big}"], strict=True)]
    out.add(f"growth {small:,} -> {big:,} calls", median(growth), "MB")
    out.add(f"peak at {big:,} / peak at {small:,}",
            median([b / a for a, b in zip(rss[f"runner, {small}"], rss[f"runner, {big}"],
                                          strict=True)]), "x")
    out.add("growth per 1,000 calls", median(growth) / (big - small) * 1000, "MB")
    for label in BASELINES:
        out.add(f"{label} script, {small:,} calls: peak RSS", med[f"{label}, {small}"], "MB")
    out.details = {
        "calls": [small, big], "rounds": opts.reps,
        "median_peak_rss_mb": {k: round(v, 1) for k, v in med.items()},
        "peak_rss_mb": {k: [round(x, 1) for x in v] for k, v in rss.items()},
        "median_seconds": {k: round(median([c.wall for c in v]), 3) for k, v in runs.items()},
        "median_cpu_seconds": {k: round(median([c.cpu for c in v]), 3) for k, v in runs.items()},
        "note": "ru_maxrss of each child as /usr/bin/time -f %M reports it",
    }
    return out

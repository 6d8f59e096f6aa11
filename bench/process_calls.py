"""Scenario ``process_calls``: 1 login + N calls, ``runner run`` beside raw scripts, all processes.

``runner run bench/playbooks/process-calls.yaml --env env.yaml -q -i n=N`` (a login, then a
``loop:`` of N ``GET /items/<i>``, each with a JSONPath filter extract and an assert) against
bench/aioserver.py, and the raw scripts ``bench/scripts/{requests,urllib3,httpclient}_calls.py
URL N`` doing the same login, requests, filter and check. Every variant is a whole process, as a
user runs it (start-up included), bytecode cache as users have it, the default run store a file
in the scenario's temp dir; at N = 1,000 and N = 10 (``--quick``: 100 and 10), interleaved round
by round. Figures: median wall times, ratios as the median of each round's ratio, and the cost
of one more call (the slope between the two N) of each variant; the same from each child's
CPU (user + sys), which a loaded machine moves less.
Targets (issue 14): at 1,000 calls runner / urllib3 <= 1.3 and runner / requests <= 0.7; at 10
calls runner / requests <= 1.2; runner / http.client reported.
"""

from __future__ import annotations

from typing import Any

from bench import PLAYBOOKS, ROOT, Outcome, log, median
from bench.processes import (
    BASELINES,
    Child,
    child_env,
    interleaved,
    run_child,
    runner_cmd,
    script_cmd,
    workplace,
)

PLAYBOOK = str((PLAYBOOKS / "process-calls.yaml").relative_to(ROOT))
# (calls, the baseline, the limit of runner / baseline)
TARGETS = {(1000, "urllib3"): 1.3, (1000, "requests"): 0.7, (10, "requests"): 1.2}


def run(opts: Any) -> Outcome:
    big, small = (100, 10) if opts.quick else (1000, 10)
    out = Outcome("process_calls", f"1 login + {big:,} (and {small}) calls, each a process")
    with workplace() as (server, tmp):
        env = child_env(tmp)
        env_file = str(tmp / "env.yaml")
        variants: dict[str, Any] = {}
        for n in (big, small):
            variants[f"runner, {n}"] = (lambda n=n: run_child(
                runner_cmd("run", PLAYBOOK, "--env", env_file, "-q", "-i", f"n={n}"), env))
            for label in BASELINES:
                variants[f"{label}, {n}"] = (lambda n=n, label=label: run_child(
                    script_cmd(label, server.url, n), env))
        log("process_calls: warm-up (the .pyc files, the run store, the OS file cache)")
        for name, fn in variants.items():
            if name.endswith(f", {small}"):
                fn()
        before = server.stats()
        log(f"process_calls: {opts.reps} interleaved rounds of {len(variants)} processes")
        runs: dict[str, list[Child]] = interleaved(variants, opts.reps)
        after = server.stats()
    per_round = (1 + len(BASELINES)) * (big + small)
    items, logins = after["items"] - before["items"], after["logins"] - before["logins"]
    if items != opts.reps * per_round or logins != opts.reps * len(variants):
        raise AssertionError(f"the server answered {items} item reads and {logins} logins, "
                             f"expected {opts.reps * per_round} and {opts.reps * len(variants)}")

    walls = {k: [c.wall for c in v] for k, v in runs.items()}
    med = {k: median(v) for k, v in walls.items()}

    def ratio(a: str, b: str) -> float:
        return median([x / y for x, y in zip(walls[a], walls[b], strict=True)])

    for n in (big, small):
        for label in ("runner", *BASELINES):
            out.add(f"{label}, {n:,} calls", med[f"{label}, {n}"], "s")
        for label in BASELINES:
            # the issue's targets are for 1,000 and 10 calls: --quick's 100 is held to 1,000's
            limit = TARGETS.get((1000 if n == big else n, label))
            out.add(f"runner / {label}, {n:,} calls", ratio(f"runner, {n}", f"{label}, {n}"),
                    "x", target=("<=", limit) if limit else None)
    slope = {}
    for label in ("runner", *BASELINES):
        # one more call: the difference of the two sizes, round by round, start-up cancelled
        slope[label] = median([(x - y) / (big - small) for x, y in zip(
            walls[f"{label}, {big}"], walls[f"{label}, {small}"], strict=True)]) * 1e6
        out.add(f"{label}: one more call", slope[label], "us")
    for label in BASELINES:
        out.add(f"runner / {label}: one more call", slope["runner"] / slope[label], "x")
    # CPU (user + sys of each child) beside wall: on a machine other sessions load, wall also
    # holds the time a child waited for a core, CPU does not
    cpus = {k: [c.cpu for c in v] for k, v in runs.items()}
    for label in BASELINES:
        out.add(f"CPU: runner / {label}, {big:,} calls", median(
            [x / y for x, y in zip(cpus[f"runner, {big}"], cpus[f"{label}, {big}"],
                                   strict=True)]), "x")
    for label in ("runner", *BASELINES):
        out.add(f"CPU: {label}: one more call", median([(x - y) / (big - small) for x, y in zip(
            cpus[f"{label}, {big}"], cpus[f"{label}, {small}"], strict=True)]) * 1e6, "us")
    out.details = {
        "calls": [big, small], "rounds": opts.reps,
        "commands": {"runner": f"runner run {PLAYBOOK} --env env.yaml -q -i n=N",
                     **{k: f"python {v.relative_to(ROOT)} URL N" for k, v in BASELINES.items()}},
        "median_seconds": {k: round(v, 4) for k, v in med.items()},
        "seconds": {k: [round(t, 4) for t in v] for k, v in walls.items()},
        "median_cpu_seconds": {k: round(median([c.cpu for c in v]), 4) for k, v in runs.items()},
        "one_more_call_us": {k: round(v, 1) for k, v in slope.items()},
    }
    return out

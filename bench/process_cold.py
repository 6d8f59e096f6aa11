"""Scenario ``process_cold``: the start of a runner command, a whole process as a user types it.

Commands, each a new process, in every round, with the bytecode cache as users have it (the
``.pyc`` files the untimed warm-up left) and without it (every module compiled; see
bench/processes.py):

- ``python -c pass``: the interpreter's own start, the floor;
- ``runner --version``;
- ``runner validate bench/playbooks/process-one.yaml``;
- ``runner run bench/playbooks/process-one.yaml --env env.yaml -q``: one request (a GET with a
  bearer token, a JSONPath filter extract and an assert) on bench/aioserver.py;
- the raw scripts ``bench/scripts/{requests,urllib3,httpclient}_calls.py URL 1`` with the same
  token: the same one request, filter and check, as a user would script it.

Rounds interleave every command and both modes; figures are medians (``2 * reps - 1`` rounds:
a start is short and noisy), ratios the median of each round's ratio. Targets (issue 14) on
the cached figures: run <= 0.25 s, validate <= 0.2 s, --version <= 0.08 s; the same limits
stand beside the uncached figures as stretch goals.
"""

from __future__ import annotations

from typing import Any

from bench import PLAYBOOKS, ROOT, Outcome, log, median
from bench.processes import (
    BASELINES,
    PYTHON,
    Child,
    child_env,
    interleaved,
    run_child,
    runner_cmd,
    script_cmd,
    workplace,
)

PLAYBOOK = str((PLAYBOOKS / "process-one.yaml").relative_to(ROOT))
TARGETS = {"runner --version": 0.08, "runner validate": 0.2, "runner run (1 request)": 0.25}
MODES = {"cached": True, "no cache": False}


def run(opts: Any) -> Outcome:
    out = Outcome("process_cold", "whole-process start: --version, validate, a one-request run")
    reps = 2 * opts.reps - 1
    with workplace() as (server, tmp):
        env_file = str(tmp / "env.yaml")
        commands: dict[str, list[str]] = {
            "python -c pass": [PYTHON, "-c", "pass"],
            "runner --version": runner_cmd("--version"),
            "runner validate": runner_cmd("validate", PLAYBOOK),
            "runner run (1 request)": runner_cmd("run", PLAYBOOK, "--env", env_file, "-q"),
        }
        for label in BASELINES:
            commands[f"{label} script (1 request)"] = script_cmd(label, server.url, 1)
        variants: dict[str, Any] = {}
        for mode, cached in MODES.items():
            env = child_env(tmp, token=server.token, cached=cached)
            for label, cmd in commands.items():
                variants[f"{label}, {mode}"] = (lambda c=cmd, e=env: run_child(c, e))
        log("process_cold: warm-up (writes the .pyc files, creates the run store)")
        for cmd in commands.values():
            run_child(cmd, child_env(tmp, token=server.token))
        before = server.stats()["items"]
        log(f"process_cold: {reps} interleaved rounds of {len(variants)} processes")
        runs: dict[str, list[Child]] = interleaved(variants, reps)
        sent = server.stats()["items"] - before
    expected = reps * len(MODES) * (1 + len(BASELINES))
    if sent != expected:
        raise AssertionError(f"the server answered {sent} item reads, expected {expected}")

    walls = {k: [c.wall for c in v] for k, v in runs.items()}
    med = {k: median(v) for k, v in walls.items()}

    def ratio(a: str, b: str) -> float:
        return median([x / y for x, y in zip(walls[a], walls[b], strict=True)])

    for mode in MODES:
        for label in commands:
            limit = TARGETS.get(label)
            out.add(f"{label}, {mode}", med[f"{label}, {mode}"], "s",
                    target=("<=", limit) if limit else None, stretch=mode != "cached")
        for label in ("runner run (1 request)", "requests script (1 request)"):
            # CPU (user + sys of the child) moves less than wall when other sessions load
            # the machine: wall then includes waiting for a core
            out.add(f"{label}, {mode}: CPU",
                    median([c.cpu for c in runs[f"{label}, {mode}"]]), "s")
        for base in BASELINES:
            out.add(f"run (1 request) / {base} script, {mode}",
                    ratio(f"runner run (1 request), {mode}", f"{base} script (1 request), {mode}"),
                    "x")
    out.details = {
        "rounds": reps,
        "commands": {k: " ".join(v) for k, v in commands.items()},
        "median_seconds": {k: round(v, 4) for k, v in med.items()},
        "seconds": {k: [round(t, 4) for t in v] for k, v in walls.items()},
        "median_cpu_seconds": {k: round(median([c.cpu for c in v]), 4) for k, v in runs.items()},
        "note": "no cache: PYTHONDONTWRITEBYTECODE=1 and PYTHONPYCACHEPREFIX at a fresh empty "
                "directory per process, so no .pyc is read and every module is compiled",
    }
    return out

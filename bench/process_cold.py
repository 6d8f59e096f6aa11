"""Scenario ``process_cold``: the start of a runner command, a whole process as a user types it.

Commands, each a new process, in every round:

- ``python -c pass``: the interpreter's own start, the floor;
- ``runner --version``;
- ``runner validate bench/playbooks/process-one.yaml``;
- ``runner run bench/playbooks/process-one.yaml --env env.yaml -q``: one request (a GET with a
  bearer token, a JSONPath filter extract and an assert) on bench/aioserver.py;
- the raw scripts ``bench/scripts/{requests,urllib3,httpclient}_calls.py URL 1`` with the same
  token: the same one request, filter and check, as a user would script it.

Each in four modes (bench/processes.py, bench/installs.py):

- **cached**: the bench venv's ``runner`` with the ``.pyc`` files the untimed warm-up left, as
  users have it;
- **PYTHONDONTWRITEBYTECODE=1, wheel**: runner's wheel installed into a fresh venv with the
  variable set, run with it set: pip wrote the ``.pyc`` at install, so this is ~cached (the
  runner commands only; the scripts' imports are the stdlib's and pip's, as cached);
- **PYTHONDONTWRITEBYTECODE=1, checkout**: ``pip install -e`` of a copy of the checkout with the
  variable set: runner's own ``.py`` are compiled on every start, the stdlib and the
  dependencies have their ``.pyc`` (the runner commands; the requests script with the variable
  set, for the ratio);
- **nothing cached**: the variable and ``PYTHONPYCACHEPREFIX`` at a fresh empty directory per
  process, so every module is compiled, the stdlib's too (a read-only install without ``.pyc``,
  or the first start after an upgrade): ``python -c pass`` alone is above the ``--version``
  target here, so the targets stand beside it as stretch goals only.

Rounds interleave every command and every mode; figures are medians (``2 * reps - 1`` rounds:
a start is short and noisy), ratios the median of each round's ratio. Targets (issue 14), in
the cached and both PYTHONDONTWRITEBYTECODE=1 modes: run <= 0.25 s, validate <= 0.2 s,
--version <= 0.08 s.
"""

from __future__ import annotations

import os
from typing import Any

from bench import PLAYBOOKS, ROOT, Outcome, log, median
from bench.installs import checkout_install, wheel_install
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
RUNNER_COMMANDS = tuple(TARGETS)
NO_WRITE = "PYTHONDONTWRITEBYTECODE=1"
# mode: (the children's bytecode cache, the runner install, what it runs, targets or stretch)
MODES: dict[str, tuple[str, str, tuple[str, ...], bool]] = {
    "cached": ("cached", "bench", (), False),
    f"{NO_WRITE}, wheel": ("not written", "wheel", RUNNER_COMMANDS, False),
    f"{NO_WRITE}, checkout": ("not written", "checkout", (*RUNNER_COMMANDS,
                                                          "requests script (1 request)"), False),
    "nothing cached": ("nothing cached", "bench", (), True),
}


def _commands(runner: str, env_file: str, url: str) -> dict[str, list[str]]:
    commands: dict[str, list[str]] = {
        "python -c pass": [PYTHON, "-c", "pass"],
        "runner --version": [runner, "--version"],
        "runner validate": [runner, "validate", PLAYBOOK],
        "runner run (1 request)": [runner, "run", PLAYBOOK, "--env", env_file, "-q"],
    }
    for label in BASELINES:
        commands[f"{label} script (1 request)"] = script_cmd(label, url, 1)
    return commands


def run(opts: Any) -> Outcome:
    out = Outcome("process_cold", "whole-process start: --version, validate, a one-request run")
    reps = 2 * opts.reps - 1
    with workplace() as (server, tmp):
        env_file = str(tmp / "env.yaml")
        log("process_cold: runner's wheel and a copy of the checkout, each installed into a "
            f"fresh venv with {NO_WRITE}")
        installs = {"wheel": wheel_install(tmp), "checkout": checkout_install(tmp)}
        runners = {"bench": runner_cmd()[0], **{k: v.runner for k, v in installs.items()}}
        pip_wrote = installs["wheel"].counts()
        variants: dict[str, Any] = {}
        commands: dict[str, dict[str, list[str]]] = {}
        # a run store's folder per mode, as each install has its own: the YAML parse kept
        # beside the store (runner/loader_cache.py) is stamped with the loader file's mtime,
        # which differs between installs; a shared one would be parsed again by every other
        # mode's command
        stores = {mode: tmp / f"store-{i}" / "runs.db" for i, mode in enumerate(MODES)}
        for store in stores.values():
            store.parent.mkdir()
        for mode, (bytecode, where, only, _) in MODES.items():
            env = child_env(tmp, token=server.token, bytecode=bytecode, store=stores[mode])
            every = _commands(runners[where], env_file, server.url)
            commands[mode] = {k: v for k, v in every.items() if not only or k in only}
            for label, cmd in commands[mode].items():
                variants[f"{label}, {mode}"] = (lambda c=cmd, e=env: run_child(c, e))
        log("process_cold: warm-up (writes the .pyc files of the cached mode, creates the store)")
        for mode, (bytecode, _, _, _) in MODES.items():
            for cmd in commands[mode].values():
                run_child(cmd, child_env(tmp, token=server.token, store=stores[mode],
                                         bytecode="cached" if bytecode == "cached" else
                                         "not written"))
        before = server.stats()["items"]
        log(f"process_cold: {reps} interleaved rounds of {len(variants)} processes")
        runs: dict[str, list[Child]] = interleaved(variants, reps)
        sent = server.stats()["items"] - before
        checkout_pyc = installs["checkout"].counts()[1]
        checkout_py = installs["checkout"].counts()[0]
    requests_made = sum(1 for k in variants if "(1 request)" in k)
    if sent != reps * requests_made:
        raise AssertionError(f"the server answered {sent} item reads, "
                             f"expected {reps * requests_made}")
    if checkout_pyc:
        raise AssertionError(f"the checkout's copy has {checkout_pyc} .pyc files: it was "
                             f"meant to be compiled on every start")

    walls = {k: [c.wall for c in v] for k, v in runs.items()}
    med = {k: median(v) for k, v in walls.items()}

    def ratio(a: str, b: str) -> float:
        return median([x / y for x, y in zip(walls[a], walls[b], strict=True)])

    for mode, (_, _, _, stretch) in MODES.items():
        for label in commands[mode]:
            limit = TARGETS.get(label)
            out.add(f"{label}, {mode}", med[f"{label}, {mode}"], "s",
                    target=("<=", limit) if limit else None, stretch=stretch)
        for label in ("runner run (1 request)", "requests script (1 request)"):
            # CPU (user + sys of the child) moves less than wall when other sessions load
            # the machine: wall then includes waiting for a core
            if label in commands[mode]:
                out.add(f"{label}, {mode}: CPU",
                        median([c.cpu for c in runs[f"{label}, {mode}"]]), "s")
        for base in BASELINES:
            # where a mode runs no scripts, they are the cached ones (same imports, all pip's)
            script = f"{base} script (1 request), {mode}"
            if script not in runs:
                if base != "requests":
                    continue
                script = f"{base} script (1 request), cached"
            out.add(f"run (1 request) / {base} script, {mode}",
                    ratio(f"runner run (1 request), {mode}", script), "x")
    out.details = {
        "rounds": reps,
        "load_average": os.getloadavg(),
        "commands": {f"{k}, {m}": " ".join(v) for m, c in commands.items() for k, v in c.items()},
        "median_seconds": {k: round(v, 4) for k, v in med.items()},
        "seconds": {k: [round(t, 4) for t in v] for k, v in walls.items()},
        "median_cpu_seconds": {k: round(median([c.cpu for c in v]), 4) for k, v in runs.items()},
        "wheel install with PYTHONDONTWRITEBYTECODE=1: .py / .pyc pip wrote": pip_wrote,
        "checkout copy after the rounds: .py / .pyc": (checkout_py, checkout_pyc),
        "note": "modes: cached (the bench venv, .pyc as imports wrote them); "
                "PYTHONDONTWRITEBYTECODE=1, wheel (runner's wheel installed with it set: pip "
                "compiles at install); PYTHONDONTWRITEBYTECODE=1, checkout (pip install -e of a "
                "copy of the checkout: runner's .py compiled every start); nothing cached (that "
                "variable and PYTHONPYCACHEPREFIX at a fresh empty directory per process: every "
                "module compiled, the stdlib's too)",
    }
    return out

"""Scenario 2, cold start: ``runner validate`` and ``runner --version`` as whole processes.

Each command runs as a user runs it (the installed ``runner`` script, a new process each time,
after one untimed warm-up for the OS file cache); the figure is the median of ``N`` runs.
``python -c pass`` is the floor: the interpreter's own start; ``python -c 'import runner.cli,
runner.playbook'`` is what validate's imports alone cost (the rest is its work). Then
``python -X importtime -m runner.cli ...`` names the imports that cost the most.
Target: validate <= 0.35 s.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from typing import Any

from bench import ROOT, RUNNER, Outcome, log, median

DISTRIBUTE = "playbooks/automatos/distribute-package.yaml"
ONBOARD = "playbooks/onboard-employee.yaml"
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)$")


def _time(cmd: list[str], n: int) -> tuple[float, list[float]]:
    subprocess.run(cmd, cwd=ROOT, capture_output=True)  # warm the file cache
    times = []
    for _ in range(n):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-500:]}")
    return median(times), times


def import_costs(args: list[str], top: int = 12) -> dict[str, Any]:
    """Parse ``-X importtime``: the top-level imports by cumulative time, and the top by self."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "runner.cli", *args],
                          cwd=ROOT, capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        m = _LINE.match(line)
        if m:
            self_us, cum_us, indent, name = int(m[1]), int(m[2]), len(m[3]), m[4]
            rows.append((name, self_us, cum_us, indent))
    total = sum(r[1] for r in rows)
    # self time summed by top-level package: no double counting of nested imports
    by_package: dict[str, int] = {}
    for name, self_us, _, _ in rows:
        root = name.split(".")[0]
        by_package[root] = by_package.get(root, 0) + self_us
    packages = sorted(by_package.items(), key=lambda kv: -kv[1])[:top]
    # packages (no dot) by cumulative time: what importing each one costs, nested ones included
    roots = sorted((r for r in rows if "." not in r[0]), key=lambda r: -r[2])[:top]
    return {
        "total_ms": round(total / 1000, 1),
        "by_package_self": [{"package": n, "ms": round(us / 1000, 1),
                             "share": round(us / total, 3) if total else 0}
                            for n, us in packages],
        "top_cumulative": [{"module": n, "cumulative_ms": round(c / 1000, 1)}
                           for n, _, c, _ in roots],
        "top_self": [{"module": n, "self_ms": round(s / 1000, 1)}
                     for n, s, _, _ in sorted(rows, key=lambda r: -r[1])[:top]],
    }


def run(opts: Any) -> Outcome:
    out = Outcome("cold_start", "whole-process start of runner commands (median of N)")
    n = 5 if opts.quick else 9
    runner = str(RUNNER)
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "runner --version": [runner, "--version"],
        # the imports validate needs, without its work: the difference is the work itself
        "python -c 'import runner.cli, runner.playbook'": [
            sys.executable, "-c", "import runner.cli, runner.playbook"],
        f"runner validate {DISTRIBUTE}": [runner, "validate", DISTRIBUTE],
    }
    if (ROOT / ONBOARD).exists():
        commands[f"runner validate {ONBOARD}"] = [runner, "validate", ONBOARD]
    medians: dict[str, float] = {}
    samples: dict[str, list[float]] = {}
    for label, cmd in commands.items():
        log(f"cold_start: {label} x{n}")
        medians[label], samples[label] = _time(cmd, n)
    for label, m in medians.items():
        target = ("<=", 0.35) if label.startswith("runner validate") else None
        out.add(label, m, "s", target=target)
    log("cold_start: -X importtime")
    imports = {
        "--version": import_costs(["--version"]),
        "validate": import_costs(["validate", DISTRIBUTE]),
    }
    out.add("validate: all imports (-X importtime)", imports["validate"]["total_ms"], "ms")
    for row in imports["validate"]["by_package_self"][:5]:
        out.add(f"validate: import {row['package']} (self, all modules)", row["ms"], "ms")
    out.details = {
        "runs": n,
        "median_seconds": {k: round(v, 4) for k, v in medians.items()},
        "seconds": {k: [round(t, 4) for t in v] for k, v in samples.items()},
        "imports": imports,
        "commands": {k: " ".join(v) for k, v in commands.items()},
        "onboard_playbook": (ROOT / ONBOARD).exists(),
    }
    return out

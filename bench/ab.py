"""Two checkouts side by side, as whole processes: is a change slower than what it replaces?

``python bench/ab.py OLD NEW`` takes two checkouts of this repository, each with its own
``.venv`` (``make .venv/.installed`` in it), and times in every round, alternating which goes
first: ``runner --version``, ``runner validate playbooks/onboard-employee.yaml`` and
``runner run playbooks/onboard-employee.yaml`` (the demo, simulators included), each as the
user types it, from that checkout's ``.venv/bin/runner`` in that checkout's folder. Then it
runs ``python -m bench per_call`` in each checkout in turn (``--per-call N`` times each) and
reads the engine's per-call ratio to its own raw baselines from that run's results file.

It prints medians and NEW/OLD ratios. The machine is shared, so only ratios of the same run
are compared; ``--rounds`` (default 9) sets the number of rounds. This is how issue 12's
"not slower" was measured; it is not part of ``python -m bench`` (it needs a second checkout).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "--version": ["--version"],
    "validate": ["validate", "playbooks/onboard-employee.yaml"],
    "run (demo)": ["run", "playbooks/onboard-employee.yaml", "--env", "sandbox"],
}
RATIOS = ("runner / requests", "runner / urllib3")


def _timed(checkout: Path, args: list[str], store: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run([str(checkout / ".venv/bin/runner"), *args], cwd=checkout,
                          capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "RUNNER_STORE": store,
                               "HOME": str(Path(store).parent)})
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{checkout}: runner {' '.join(args)} exited {proc.returncode}:\n"
                         f"{proc.stderr[-800:]}")
    return took


def _per_call(checkout: Path) -> dict[str, float]:
    subprocess.run([str(checkout / ".venv/bin/python"), "-m", "bench", "per_call"],
                   cwd=checkout, check=True, capture_output=True)
    figures = json.loads((checkout / "bench/results/per_call.json").read_text())["figures"]
    return {f["name"]: f["value"] for f in figures if f["name"] in RATIOS}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--per-call", type=int, default=2)
    a = p.parse_args()
    sides = {"old": a.old.resolve(), "new": a.new.resolve()}
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for side, checkout in sides.items():  # untimed warm-up: the OS file cache, .pyc files
            for args in COMMANDS.values():
                _timed(checkout, args, f"{tmp}/{side}.db")
        for r in range(a.rounds):
            order = list(sides.items()) if r % 2 == 0 else list(sides.items())[::-1]
            for name, args in COMMANDS.items():
                for side, checkout in order:
                    times.setdefault((name, side), []).append(
                        _timed(checkout, args, f"{tmp}/{side}.db"))
    print(f"{'command':<14} {'old s':>8} {'new s':>8} {'new/old':>8}")
    for name in COMMANDS:
        old = statistics.median(times[(name, "old")])
        new = statistics.median(times[(name, "new")])
        print(f"{name:<14} {old:8.3f} {new:8.3f} {new / old:8.2f}")
    calls: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    for _ in range(a.per_call):
        for side, checkout in sides.items():
            calls[side].append(_per_call(checkout))
    for ratio in RATIOS:
        old = statistics.median(c[ratio] for c in calls["old"])
        new = statistics.median(c[ratio] for c in calls["new"])
        print(f"per call, {ratio}: old {old:.2f}x, new {new:.2f}x (new/old {new / old:.2f})")


if __name__ == "__main__":
    main()

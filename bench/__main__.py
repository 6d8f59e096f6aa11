"""``python -m bench [scenario ...]``: run the benchmarks and print figures beside targets.

Each scenario runs in a fresh child process (so one scenario's threads, caches and peak memory
do not leak into the next), writes ``bench/results/<scenario>.json``, and the parent prints one
table of every figure. ``--quick`` does fewer repetitions (a smoke test of the suite itself).
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import time
import traceback

from bench import GROUPS, RESULTS, ROOT, SCENARIOS, Figure, Outcome, log, table


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    groups = ", ".join(f"{g} (= {' '.join(m)})" for g, m in GROUPS.items())
    p.add_argument("scenarios", nargs="*", metavar="scenario",
                   help=f"some of: {', '.join(SCENARIOS)}, or a group: {groups} "
                        "(default: all)")
    p.add_argument("--reps", type=int, default=None,
                   help="repetitions per timed variant (default 5, --quick 3)")
    p.add_argument("--quick", action="store_true",
                   help="fewer repetitions and a smaller batch: checks the suite, not the engine")
    p.add_argument("--in-process", action="store_true",
                   help="run the scenarios in this process (for debugging)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.scenarios = [m for s in args.scenarios for m in GROUPS.get(s, (s,))]
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIOS)}")
    args.scenarios = args.scenarios or list(SCENARIOS)
    if args.reps is None:
        args.reps = 3 if args.quick else 5
    return args


def run_here(name: str, args: argparse.Namespace) -> Outcome:
    module = importlib.import_module(f"bench.{name}")
    started = time.perf_counter()
    outcome: Outcome = module.run(args)
    outcome.details["scenario_seconds"] = round(time.perf_counter() - started, 1)
    outcome.write()
    return outcome


def run_child(name: str, args: argparse.Namespace) -> Outcome:
    cmd = [sys.executable, "-m", "bench", "--child", name, "--reps", str(args.reps)]
    if args.quick:
        cmd.append("--quick")
    path = RESULTS / f"{name}.json"
    stamp = path.stat().st_mtime if path.exists() else 0.0
    proc = subprocess.run(cmd, cwd=ROOT)
    if proc.returncode != 0 or not path.exists() or path.stat().st_mtime == stamp:
        failed = Outcome(name, "FAILED")
        failed.add("scenario failed (see its output above)", float("nan"))
        return failed
    data = json.loads(path.read_text())
    out = Outcome(name, data["title"], details=data.get("details", {}))
    for f in data["figures"]:
        target = None
        if f.get("target"):
            op, limit = f["target"].split()
            target = (op, float(limit))
        out.figures.append(Figure(f["name"], f["value"] if f["value"] is not None
                                  else float("nan"), f["unit"], target, f.get("stretch", False),
                                  f.get("note", "")))
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        (name,) = args.scenarios
        outcome = run_here(name, args)
        print(table([outcome]), flush=True)
        return 0
    started = time.perf_counter()
    outcomes = []
    for name in args.scenarios:
        log(f"\n== {name} ==")
        if args.in_process:
            try:
                outcomes.append(run_here(name, args))
            except Exception:
                traceback.print_exc()
                failed = Outcome(name, "FAILED")
                failed.add("scenario failed (see the traceback above)", float("nan"))
                outcomes.append(failed)
        else:
            outcomes.append(run_child(name, args))
    total = time.perf_counter() - started
    print("\n" + table(outcomes))
    missed = [f"{o.scenario}: {f.name}" for o in outcomes for f in o.figures
              if f.ok is False and not f.stretch]
    print(f"\n{len(args.scenarios)} scenario(s) in {total:.0f} s; results in "
          f"{RESULTS.relative_to(ROOT)}/<scenario>.json"
          + (f"; {len(missed)} target(s) missed" if missed else ""))
    failed = [o.scenario for o in outcomes if o.title == "FAILED"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""``make mutation``: mutation testing (mutmut 3) of the code whose tests must notice a regression.

    python bench/mutation/run.py                 # every target, then one table of scores
    python bench/mutation/run.py redactor retry  # some targets
    python bench/mutation/run.py --score-only    # recompute the scores of the last run
    python bench/mutation/run.py --survivors     # also list each survivor (mutmut show NAME)

The targets are in pyproject.toml, one table each under ``[tool.runner.mutation]``: ``files``
(mutated), ``mutants`` (globs of the mutant names that count, when only some functions of a file
are the target; default: every mutant of ``files``) and ``tests`` (the test files that may kill
them: fast in-process ones, so a target takes minutes). ``[tool.mutmut]`` holds what the targets
share. mutmut reads its settings from the current directory's pyproject.toml, one set per run,
so each target runs in ``build/mutation/<target>/``: a fresh copy of the checkout's code and
tests (a rerun after a merge sees the merged code) and a pyproject.toml made for that target.

Score = killed / (mutants - equivalent). Killed: a test failed, or the mutant timed out or was
caught by a type check; everything else (survived, no tests, suspicious...) counts against.
Equivalent mutants (no test can tell them apart from the code) are listed, each with the line
mutmut writes and why, in ``bench/mutation/equivalent.txt``; an entry whose mutant no longer
writes that line (the code moved, mutants were renumbered) is reported stale and not excluded.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: mutmut brings toml there
    import toml as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
EQUIVALENT = HERE / "equivalent.txt"
WORK = ROOT / "build" / "mutation"
MUTMUT = Path(sys.executable).parent / "mutmut"
COPIED = ("runner", "plugins", "tests", "playbooks", "environments", "schemas")
KILLED = {1, 3, 36, 37, 24, -24, 152, 255}  # mutmut's exit codes: killed, timeout, type check
TARGET_SCORE = 90.0


@dataclass
class Target:
    name: str
    files: list[str]
    tests: list[str]
    mutants: list[str] = field(default_factory=list)

    @property
    def work(self) -> Path:
        return WORK / self.name

    def counts(self, key: str) -> bool:
        return not self.mutants or any(fnmatch.fnmatchcase(key, g) for g in self.mutants)


def load_targets() -> tuple[dict[str, Any], dict[str, Target]]:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    tool = conf["tool"]
    targets = {name: Target(name, list(t["files"]), list(t["tests"]), list(t.get("mutants", [])))
               for name, t in tool["runner"]["mutation"].items()}
    return conf, targets


def _toml(value: Any) -> str:
    # the settings are strings, numbers, booleans and lists of strings: JSON writes them as TOML
    return json.dumps(value, ensure_ascii=False)


def prepare(t: Target, conf: dict[str, Any]) -> None:
    """A fresh copy of the code and tests, and a pyproject.toml with this target's settings."""
    shutil.rmtree(t.work, ignore_errors=True)
    t.work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in COPIED:
        shutil.copytree(ROOT / name, t.work / name, ignore=ignore)
    for file in t.files:
        undecorate_caches(t.work / file)
    settings = dict(conf["tool"].get("mutmut", {}))
    settings.update(source_paths=["runner"], only_mutate=t.files,
                    pytest_add_cli_args_test_selection=t.tests,
                    also_copy=[n for n in COPIED if n != "runner"],
                    use_git_change_detection=False)  # build/ is inside this checkout's git
    pytest_conf = conf["tool"].get("pytest", {}).get("ini_options", {})
    lines = ["[tool.pytest.ini_options]"]
    lines += [f"{k} = {_toml(v)}" for k, v in pytest_conf.items() if k != "testpaths"]
    lines += ["", "[tool.mutmut]"]
    lines += [f"{k} = {_toml(v)}" for k, v in settings.items()]
    (t.work / "pyproject.toml").write_text("\n".join(lines) + "\n")


def undecorate_caches(path: Path) -> None:
    """``@lru_cache(...) def f`` becomes ``def f`` then ``f = lru_cache(...)(f)``, in the copy.

    mutmut 3 leaves every decorated function alone (a decorator runs when the module loads),
    and the fast JSONPath compiler is one. The same function, cached the same way, but one
    mutmut mutates; only module-level functions whose one decorator is ``lru_cache``/``cache``.
    """
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    edits = []
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and len(node.decorator_list) == 1:
            deco = node.decorator_list[0]
            called = deco.func if isinstance(deco, ast.Call) else deco
            if isinstance(called, (ast.Name, ast.Attribute)) and \
                    ast.unparse(called).rpartition(".")[2] in ("lru_cache", "cache"):
                edits.append((deco.lineno, deco.end_lineno or deco.lineno, node.end_lineno,
                              f"{node.name} = {ast.unparse(deco)}({node.name})\n"))
    for first, last, end, assign in reversed(edits):  # from the bottom: line numbers hold
        lines.insert(end or last, assign)
        del lines[first - 1:last]
    path.write_text("".join(lines))


def run_mutmut(t: Target, jobs: int) -> int:
    cmd = ["nice", "-n", "10", str(MUTMUT), "run", "--max-children", str(jobs), *t.mutants]
    log = t.work / "mutmut.log"
    print(f"{t.name}: mutmut over {' '.join(t.files)}, tests {' '.join(t.tests)} "
          f"(log: {log.relative_to(ROOT)})", flush=True)
    with log.open("w") as out:  # its progress line redraws itself: keep it out of the console
        code = subprocess.call(cmd, cwd=t.work, stdout=out, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if code != 0:
        print(log.read_text()[-3000:], file=sys.stderr)
    return code


def results(t: Target) -> dict[str, int | None]:
    """Each counted mutant's exit code, from mutmut's files (None: not tested yet)."""
    out: dict[str, int | None] = {}
    for file in t.files:
        meta = t.work / "mutants" / (file + ".meta")
        if not meta.exists():
            continue
        for key, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if t.counts(key):
                out[key] = code
    return out


@dataclass
class Equivalent:
    name: str
    line: str
    why: str


def load_equivalent() -> list[Equivalent]:
    """``name | the mutated line (mutmut show's + line) | why``, one a line; # comments."""
    out = []
    for raw in EQUIVALENT.read_text().splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        name, line, why = (p.strip() for p in raw.split(" | ", 2))
        out.append(Equivalent(name, line, why))
    return out


def mutated_lines(t: Target, name: str) -> list[str]:
    shown = subprocess.run([str(MUTMUT), "show", name], cwd=t.work, capture_output=True,
                           text=True).stdout
    return [ln[1:].strip() for ln in shown.splitlines()
            if ln.startswith("+") and not ln.startswith("+++")]


@dataclass
class Score:
    target: str
    total: int
    killed: int
    equivalent: int
    survivors: list[str]
    stale: list[str]

    @property
    def percent(self) -> float:
        counted = self.total - self.equivalent
        return 100.0 * self.killed / counted if counted else 100.0


def score(t: Target, equivalent: list[Equivalent]) -> Score:
    codes = results(t)
    excluded, stale = set(), []
    for e in equivalent:
        if e.name not in codes:
            continue
        if e.line in mutated_lines(t, e.name):
            excluded.add(e.name)
        else:
            stale.append(e.name)
    killed = [k for k, c in codes.items() if c in KILLED and k not in excluded]
    survivors = sorted(k for k, c in codes.items() if c not in KILLED and k not in excluded)
    return Score(t.name, len(codes), len(killed), len(excluded), survivors, stale)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench/mutation/run.py", description=__doc__.splitlines()[0])
    p.add_argument("targets", nargs="*", help="some targets (default: all)")
    p.add_argument("--score-only", action="store_true", help="do not run mutmut again")
    p.add_argument("--survivors", action="store_true", help="show each surviving mutant")
    p.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2)")
    args = p.parse_args(argv)
    conf, targets = load_targets()
    unknown = [n for n in args.targets if n not in targets]
    if unknown:
        p.error(f"unknown target {unknown[0]!r}; choose from {', '.join(targets)}")
    chosen = [targets[n] for n in args.targets or targets]
    failed = []
    for t in chosen:
        if not args.score_only:
            prepare(t, conf)
            if run_mutmut(t, args.jobs) != 0:
                failed.append(t.name)
    equivalent = load_equivalent()
    scores = [score(t, equivalent) for t in chosen]
    print(f"\n{'target':<10} {'mutants':>7} {'equiv.':>6} {'killed':>6} {'score':>7}")
    for s in scores:
        mark = "" if s.percent >= TARGET_SCORE else f"  (target {TARGET_SCORE:.0f} %)"
        print(f"{s.target:<10} {s.total:>7} {s.equivalent:>6} {s.killed:>6} "
              f"{s.percent:>6.1f}%{mark}")
    for s in scores:
        for name in s.stale:
            print(f"stale entry in {EQUIVALENT.relative_to(ROOT)}: {name} no longer writes "
                  "that line: review it again")
        if args.survivors:
            for name in s.survivors:
                print(f"\n-- survived: {name}")
                print("\n".join(mutated_lines(targets[s.target], name)))
        elif s.survivors:
            print(f"{s.target}: {len(s.survivors)} survivors: {', '.join(s.survivors)}")
    if failed:
        print(f"mutmut failed for: {', '.join(failed)}", file=sys.stderr)
        return 3
    return 0 if all(s.percent >= TARGET_SCORE for s in scores) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

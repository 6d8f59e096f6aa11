"""The library API the CLI is a thin shell over: validate, run, plan, connectors."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from runner.engine import execute
from runner.environment import load_environment
from runner.model import Playbook
from runner.playbook import load_playbook
from runner.report import ConsoleReporter, write_json, write_junit
from runner.results import Listener, RunResult
from runner.secrets import Redactor


def validate(paths: Sequence[str | Path]) -> list[Playbook]:
    """Load and check each playbook; raises PlaybookError at the first invalid one."""
    return [load_playbook(p) for p in paths]


def run(
    path: str | Path,
    *,
    env: str | None = "sandbox",
    inputs: Mapping[str, Any] | None = None,
    report_json: str | Path | None = None,
    junit: str | Path | None = None,
    stream: IO[str] | None = None,
    quiet: bool = False,
    listeners: list[Listener] | None = None,
    redactor: Redactor | None = None,
    sandbox: Any = None,
) -> RunResult:
    """Validate and run a playbook, print the console report, write the requested files."""
    playbook = load_playbook(path)
    environment = load_environment(env, search=Path(path))
    redactor = redactor or Redactor()
    listeners = list(listeners or [])
    if not quiet:
        listeners.insert(0, ConsoleReporter(redactor, stream or sys.stdout))
    result = execute(playbook, environment, inputs or {}, listeners=listeners,
                     redactor=redactor, sandbox=sandbox)
    if report_json:
        write_json(result, report_json, redactor)
    if junit:
        write_junit(result, junit, redactor)
    return result


def plan(path: str | Path, *, env: str | None = "sandbox",
         inputs: Mapping[str, Any] | None = None, stream: IO[str] | None = None) -> None:
    from runner.plan import print_plan

    playbook = load_playbook(path)
    environment = load_environment(env, search=Path(path))
    print_plan(playbook, environment, inputs or {}, stream or sys.stdout)


def connectors() -> list[Any]:
    from runner.connectors import registry

    return registry.all_specs()

"""``runner.api.plan``: the requests a run would send, secrets redacted; nothing is sent. As
text or as Markdown (a comment for a pull request), alone or as a diff against the same
playbook at a git revision (``diff="HEAD~1"``)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from runner.environment import Environment, load_environment
from runner.errors import InvalidInput, RunnerError
from runner.plan import build_plan
from runner.plan_model import Plan, masked
from runner.playbook import load_playbook
from runner.secrets import Redactor

FORMATS = ("text", "markdown")


def plan(path: str | Path, *, env: str | None = "sandbox",
         inputs: Mapping[str, Any] | None = None, stream: IO[str] | None = None,
         root: str | Path | None = None, format: str = "text",
         diff: str | None = None) -> None:
    if format not in FORMATS:
        raise InvalidInput(f"--format {format}: not a plan format",
                           hint=f"use one of: {', '.join(FORMATS)}")
    redactors = [Redactor()]
    if diff is None:
        built = _planned(path, env, inputs, root, redactors[0])
        if format == "markdown":
            from runner.plan_markdown import markdown_lines

            lines = markdown_lines(built)
        else:
            from runner.plan_text import text_lines

            lines = text_lines(built)
    else:
        lines = _diff(path, env, inputs, root, diff, format, redactors)
    out = stream or sys.stdout
    for line in lines:
        for redactor in redactors:
            line = redactor.redact(line)
        out.write(line + "\n")


def _planned(path: str | Path, env: str | None, inputs: Mapping[str, Any] | None,
             root: str | Path | None, redactor: Redactor,
             environment: Environment | None = None, declared_only: bool = False) -> Plan:
    playbook = load_playbook(path, root=root)
    if environment is None:
        environment = load_environment(env, search=Path(path))
    given = dict(inputs or {})
    if declared_only:  # an input the change adds is not the revision's
        given = {k: v for k, v in given.items() if k in playbook.inputs}
    return build_plan(playbook, environment, given, redactor)


def _diff(path: str | Path, env: str | None, inputs: Mapping[str, Any] | None,
          root: str | Path | None, rev: str, format: str,
          redactors: list[Redactor]) -> list[str]:
    from runner.plan_diff import diff_lines, diff_plans
    from runner.plan_git import at_revision

    # the environment of today for both sides: the diff is the change's, not the environments'
    environment = load_environment(env, search=Path(path))
    with at_revision(path, rev, root) as at:
        old = None
        if at.path is not None:
            redactors.append(Redactor())
            try:  # the revision's playbook first: its connector files are the ones known ...
                old = _planned(at.path, env, inputs, at.root, redactors[1], environment,
                               declared_only=True)
            except RunnerError as e:  # named as REV:path, the temporary folder is no one's
                raise InvalidInput(f"the playbook at {rev}: "
                                   + at.where(e.render().removeprefix("error: "))) from None
            old = masked(old, at.where)
        new = _planned(path, env, inputs, root, redactors[0], environment)  # ... then today's
    changes = diff_plans(old, new, rev, at.commit)
    if format == "markdown":
        from runner.plan_markdown import diff_markdown_lines

        return diff_markdown_lines(changes, at.relative)
    return diff_lines(changes, at.relative)

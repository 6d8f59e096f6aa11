"""Go to definition: an include's playbook, a connector alias's ``file:``, and a call's
operation in its connector file."""

from __future__ import annotations

from pathlib import Path

from runner.errors import RunnerError
from runner.loader import Document, load_file
from runner.lsp.buffer import paths_on_line
from runner.lsp.facts import Facts


def definition(doc: Document, facts: Facts, line: int) -> tuple[Path, int] | None:
    """The file and its 0-based line the thing on ``line`` is defined at."""
    folder = facts.file.parent
    for path in paths_on_line(doc, line):
        if path[:1] == ("connectors",) and path[2:] == ("file",):
            value = facts.data["connectors"][path[1]]["file"]
            return (folder / value, 0) if isinstance(value, str) else None
        found = facts.step_of(path)
        if found is None:
            continue
        step, where = found
        rest = path[len(where):]
        if rest == ("include",) and isinstance(step.get("include"), str):
            target = folder / step["include"]
            return (target, 0) if target.is_file() else None
        if rest == ("call",):
            op = facts.operation(step.get("call"))
            if op is None:
                return None
            source = Path(op[1].source)
            try:
                at = load_file(source).loc(("operations", op[2].name)).line - 1
            except RunnerError:
                at = 0
            return source, at
    return None

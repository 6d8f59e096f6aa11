"""Diagnostics: what ``runner validate`` says of the buffer, at its place.

The buffer is checked as ``runner validate`` checks the file (``load_playbook`` with the
unsaved text; its includes and connector files read from beside its path), so the message,
the hint with its did-you-mean and the line are validate's own. The loader stops at the first
problem; when that is a schema error (an unknown key, a wrong type), every other schema error
is shown too, each worded as validate words it (``validation.schema_problems``): they cost
nothing more. The checks after the schema stop at the first. A problem in an included file is
shown there (its own diagnostic) and on the include step that reaches it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from runner.errors import PlaybookError, RunnerError
from runner.loader import top_level_keys


@dataclass(frozen=True)
class Problem:
    """A problem the language server shows: where, and the loader's message."""
    file: str  # the file it is in: this buffer's, or an included one
    line: int  # 0-based
    col: int
    end: int
    message: str


def diagnose(file: str, text: str, root: str | None = None) -> list[Problem]:
    """validate's problem in ``text`` (the playbook at ``file``), or none. A YAML file that is
    not a playbook (no top-level ``steps:``: a connector, an environment file) is left alone."""
    from runner.playbook import load_playbook

    if "steps" not in top_level_keys(text):
        return []
    try:
        load_playbook(file, root=root, text=text)
    except PlaybookError as e:
        return [p for err in (e, *_more(e, file, text)) for p in _placed(err, file, text)]
    except RunnerError as e:  # not at a place (--root wrong): the top of the file
        return [Problem(file, 0, 0, 0, _words(e))]
    return []


def _more(first: PlaybookError, file: str, text: str) -> list[PlaybookError]:
    """The other schema errors of the buffer, when the first problem is one of them."""
    from runner.loader import load_text
    from runner.playbook_schema import base
    from runner.validation import schema_problems

    if first.location is None or first.location.file != file:
        return []
    try:
        found = schema_problems(base(), load_text(text, file))
    except PlaybookError:  # not YAML: the first problem is all there is
        return []
    if first.location not in {p.location for p in found}:
        return []  # the first is not the schema's: the loader's checks stop at one
    return [p for p in found if p.location != first.location]


def _placed(e: PlaybookError, file: str, text: str) -> list[Problem]:
    loc = e.location
    if loc is None:
        return [Problem(file, 0, 0, 0, _words(e))]
    if Path(loc.file).resolve() == Path(file).resolve():
        return [_at(file, text, loc.line - 1, _key_col(e, text, loc.line - 1, loc.col - 1),
                    _words(e))]
    # in an included playbook: there, and on this buffer's include of it
    try:
        other = Path(loc.file).read_text(encoding="utf-8", errors="replace")
    except OSError:
        other = ""
    there = _at(loc.file, other, loc.line - 1, loc.col - 1, _words(e))
    line = _include_line(text, Path(file).parent, Path(loc.file))
    here = _at(file, text, line, 0, f"{loc}: {_words(e)}")
    return [there, here]


def _key_col(e: PlaybookError, text: str, line: int, col: int) -> int:
    """An unknown key is placed (by the loader) at its value when that is a scalar on the
    key's line: the editor marks the key itself."""
    m = re.match(r"unknown key '([^']+)'", e.message)
    lines = text.split("\n")
    if m is None or not 0 <= line < len(lines):
        return col
    at = lines[line].rfind(m.group(1) + ":", 0, col + 1)
    return at if at >= 0 else col


def _words(e: RunnerError) -> str:
    """validate's words: ``step 'x' > with: message``, then the hint on a line of its own."""
    named = f"{e.path}: " if isinstance(e, PlaybookError) and e.path else ""
    return f"{named}{e.message}" + (f"\nhint: {e.hint}" if e.hint else "")


def _at(file: str, text: str, line: int, col: int, message: str) -> Problem:
    """The problem on its token: from its column to the end of the key (``key:``) or of the
    value on the line, comments left out."""
    lines = text.split("\n")
    src = lines[line] if 0 <= line < len(lines) else ""
    col = min(max(col, 0), len(src))
    rest = src[col:]
    m = re.match(r"[^\s:#][^:#]*?(?=:(\s|$))", rest) or re.match(r"[^#]*[^\s#]", rest)
    end = col + (m.end() if m else 0)
    if end == col:  # nothing there (a missing key): the whole line
        col, end = len(src) - len(src.lstrip()), len(src)
    return Problem(file, max(line, 0), col, end, message)


def _include_line(text: str, folder: Path, target: Path) -> int:
    """The line of this buffer's include that reaches ``target`` (directly or not): the one
    naming it, else the first include."""
    first = None
    for n, line in enumerate(text.split("\n")):
        m = re.match(r"^\s*(?:-\s+)?include:\s*['\"]?([^'\"#]+?)['\"]?\s*(#.*)?$", line)
        if m is None:
            continue
        first = n if first is None else first
        if (folder / m.group(1)).resolve() == target.resolve():
            return n
    return first or 0

"""An editor's buffer as YAML with places, even while it is being typed.

A buffer is rarely valid YAML at the moment completion is asked for: the line under the cursor
holds half a key (``wi``) or an open quote. The line is rewritten first, its token under the
cursor replaced by a marker (``wi<marker>: null`` for a key, ``key: <marker>`` for a value);
a line elsewhere that still breaks the parse is commented out and the parse tried again (a
few times). The marker's path in the parsed data is then where the cursor is, as the loader
would name it: ``('steps', 0, 'with', 'Lo<marker>')``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from runner.errors import PlaybookError
from runner.loader import Document, Path_, load_text

MARK = "RUNNERxCURSORx7f3a"  # never in a playbook; a plain scalar in any position
_MAX_REPAIRS = 8
_WORD = re.compile(r"[A-Za-z0-9_.\-]*$")
_KEY_PREFIX = re.compile(r"^(\s*(?:-\s+)*)")


@dataclass(frozen=True)
class Cursor:
    """Where the cursor is: ``path`` of the node under it (for a key: the key's path),
    ``mode`` ``key``, ``value`` or ``template`` (inside ``{{``), ``word`` what is typed so far
    of the token, ``doc`` the repaired buffer parsed."""

    path: Path_
    mode: str
    word: str
    doc: Document
    line: int
    col: int
    glued: bool = False  # right after a key's colon (``call:``): a value needs a space first

    def parent(self) -> Any:
        """The mapping (or list) holding the node under the cursor."""
        return node_at(self.doc.data, self.path[:-1])


def parse(text: str, file: str, keep: int | None = None) -> Document | None:
    """The buffer parsed, lines that break it commented out (never line ``keep``)."""
    lines = text.split("\n")
    for _ in range(_MAX_REPAIRS):
        joined = "\n".join(lines)
        try:
            return load_text(joined, file)
        except PlaybookError as e:
            culprits = _culprits(joined) or ([e.location.line - 1] if e.location else [])
        bad = next((n for n in culprits if 0 <= n < len(lines) and n != keep
                    and lines[n].strip() and not lines[n].lstrip().startswith("#")), None)
        if bad is None:
            return None
        lines[bad] = "#" + lines[bad]
    return None


def _culprits(text: str) -> list[int]:
    """The lines a YAML error may be on: where what it complains of began (an open quote, a
    flow mapping), where it noticed, the line before that."""
    try:
        yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        marks = [m.line for m in (e.context_mark, e.problem_mark) if m is not None]
        return [*marks, *(m - 1 for m in marks)]
    except yaml.YAMLError:
        return []
    return []  # composes: the loader's own refusal (a duplicate key), at its line


def cursor_at(text: str, file: str, line: int, col: int) -> Cursor | None:
    """The cursor at 0-based ``line``/``col`` (code points), or None when no rewriting of the
    buffer parses."""
    lines = text.split("\n")
    while len(lines) <= line:
        lines.append("")
    current = lines[line]
    before = current[:col]
    if before.lstrip().startswith("#"):
        return None  # in a comment: nothing to complete
    mode, word, rewritten = _rewrite(before)
    lines[line] = rewritten
    doc = parse("\n".join(lines), file, keep=line)
    if doc is None:
        return None
    path = _find_mark(doc.data, ())
    if path is None:
        return None
    if mode == "key" and isinstance(path[-1], str):
        path = (*path[:-1], path[-1].replace(MARK, ""))
    return Cursor(path, mode, word, doc, line, col, glued=before.endswith(":"))


def _rewrite(before: str) -> tuple[str, str, str]:
    """The cursor's mode, the word typed, and the line rewritten to hold the marker."""
    opened, closed = before.rfind("{{"), before.rfind("}}")
    key_part = _key_value_split(before)
    if opened > closed:
        word = _WORD.search(before[opened + 2:])
        typed = word.group(0) if word else ""
        if key_part is not None:  # `key: "... {{ inp` -> `key: <marker>`
            return "template", typed, key_part + " " + MARK
        # a line of a block scalar (or a flow value broken over lines): the text is free
        return "template", typed, _KEY_PREFIX.match(before).group(1) + MARK  # type: ignore[union-attr]
    if key_part is not None:
        value = before[len(key_part):].strip()
        return "value", value, key_part + " " + MARK
    prefix = _KEY_PREFIX.match(before).group(1)  # type: ignore[union-attr]
    typed = before[len(prefix):].strip()
    if not re.fullmatch(r"[A-Za-z0-9_\-]*", typed):
        typed = ""
    return "key", typed, prefix + typed + MARK + ": null"


def _key_value_split(before: str) -> str | None:
    """``  call:`` of ``  call: nd``: the line up to its key's colon, when the cursor is after
    one (a value is being typed), else None."""
    m = re.match(r"^(\s*(?:-\s+)*[A-Za-z_][A-Za-z0-9_\-]*\s*:)(\s|$)", before)
    return m.group(1) if m else None


def _find_mark(data: Any, path: Path_) -> Path_ | None:
    if isinstance(data, dict):
        for k, v in data.items():
            if MARK in k:
                return (*path, k)
            found = _find_mark(v, (*path, k))
            if found is not None:
                return found
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found = _find_mark(v, (*path, i))
            if found is not None:
                return found
    elif isinstance(data, str) and MARK in data:
        return path
    return None


def node_at(data: Any, path: Path_) -> Any:
    for key in path:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def paths_on_line(doc: Document, line: int) -> list[Path_]:
    """Every path the loader placed on 0-based ``line``, the deepest first."""
    found = [p for p, loc in doc.locations.items() if loc.line == line + 1]
    return sorted(found, key=len, reverse=True)

"""The small forms every part of the HTML report writes its values in: escaped text, pretty
JSON, a local time, a step's name with its loop index, and where the page's links go.

Each value reaching the page passes :func:`e`, which escapes it for HTML after the page's data
was redacted (a secret holding ``&`` or ``<`` is still found before it is escaped).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from runner.report import split_where

_INDEX = re.compile(r"(\[\d+\])$")


def e(value: Any) -> str:
    """``value`` escaped for HTML text and attributes (JSON unless a string)."""
    return escape(value if isinstance(value, str) else _json(value), quote=True)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def pretty(value: Any) -> str:
    """``value`` as indented JSON; a string that holds JSON is shown parsed."""
    if isinstance(value, str):
        text = value
        try:
            value = json.loads(text)
        except ValueError:
            return text
        if not isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def when(ts: float) -> str:
    """A Unix time as a local ISO time, to the second."""
    return dt.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def name(step: dict[str, Any]) -> str:
    """The step's id, with its index in a loop: ``software[1]``."""
    m = _INDEX.search(step.get("label") or "")
    return str(step["id"]) + (m.group(1) if m else "")


class Links:
    """Where the page's links go: a step to its element on the page (``#step-2-1``), and a
    step's ``file:line`` to that file, relative to the page's folder
    (``../playbooks/x.yaml#L12``: the fragment is the line on a Git host's page of the file),
    or as a ``file:`` URL when the page is not a file (a page a server renders).

    ``files``: a file as the report names it -> its absolute path, for a file named relative
    to another folder than the current one (a stored run's playbook, named as it was given
    in the folder it ran in; the store keeps its absolute path)."""

    def __init__(self, anchors: dict[int, str], page: str | Path | None = None,
                 files: dict[str, str] | None = None) -> None:
        self.anchors = anchors
        self.folder = os.path.dirname(os.path.abspath(page)) if page is not None else None
        self.files = files or {}

    def anchor(self, step: dict[str, Any]) -> str:
        """The step's element id on the page."""
        return self.anchors[id(step)]

    def source(self, where: str) -> str:
        """``where`` (``playbooks/x.yaml:12``) as a link to its file; "" for no ``where``."""
        file, line = split_where(where)
        if not file:
            return f'<span class="src">{e(where)}</span>' if where else ""
        target = os.path.abspath(self.files.get(file) or file)
        href = Path(target).as_uri()
        if self.folder is not None:
            try:
                href = quote(Path(os.path.relpath(target, self.folder)).as_posix())
            except ValueError:  # another drive (Windows): no relative path leads there
                pass
        return f'<a class="src" href="{e(href)}#L{line}">{e(where)}</a>'

"""The small forms every part of the HTML report writes its values in: escaped text, pretty
JSON, a local time, a step's name with its loop index.

Each value reaching the page passes :func:`e`, which escapes it for HTML after the page's data
was redacted (a secret holding ``&`` or ``<`` is still found before it is escaped).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from html import escape
from typing import Any

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

"""``runner.api.history``, ``count_runs``, ``show``, ``connectors``: what is recorded and
installed, read for ``runner history``, ``runner show`` and ``runner connectors``."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from runner.errors import InvalidInput
from runner.model import seconds
from runner.store import Store


def since(text: str) -> float:
    """``--since``: a date (2026-11-23, 2026-11-23T08:00) or a duration back from now (2h,
    3d, 1w), as a time."""
    units = {"d": 86400.0, "w": 604800.0}
    try:
        if text[-1] in units and text[:-1].isdigit():
            return time.time() - int(text[:-1]) * units[text[-1]]
        if text[-1] in "smh" and text[0].isdigit():
            return time.time() - seconds(text)
        return dt.datetime.fromisoformat(text).timestamp()
    except (ValueError, IndexError):
        raise InvalidInput(f"--since {text!r} is neither a date nor a duration",
                           hint="write 2026-11-23, 2026-11-23T08:00, 2h or 3d") from None


def history(*, store: str | None = None, since: float | str | None = None,
            **filters: Any) -> list[dict[str, Any]]:
    """The recorded runs that match ``filters`` (playbook, status, limit), newest first;
    ``since``: a time, or the text of ``--since``."""
    db = Store(store)
    try:
        return db.find_runs(since=_since(since), **filters)
    finally:
        db.close()


def history_page(*, store: str | None = None, limit: int = 50, since: float | str | None = None,
                 **filters: Any) -> tuple[list[dict[str, Any]], int]:
    """``runner history``: the newest ``limit`` runs that match, and how many more match."""
    after = _since(since)  # once: "2h" is two hours back from now
    db = Store(store)
    try:
        rows = db.find_runs(limit=limit, since=after, **filters)
        hidden = db.count_runs(since=after, **filters) - len(rows) if len(rows) >= limit else 0
        return rows, hidden
    finally:
        db.close()


def count_runs(*, store: str | None = None, **filters: Any) -> int:
    """How many runs match ``filters`` (those of :func:`history`, without its limit)."""
    db = Store(store)
    try:
        return db.count_runs(**filters)
    finally:
        db.close()


def show(run_id: str, *, store: str | None = None) -> dict[str, Any]:
    db = Store(store)
    try:
        row = db.get_run(run_id)
        if row is None:
            raise InvalidInput(f"no run {run_id} in {db.url}", hint="runner history lists them")
        row["journal"] = [e.__dict__ for e in db.entries(run_id)]
        return row
    finally:
        db.close()


def connectors() -> list[Any]:
    from runner.connectors import registry  # here: only `runner connectors` reads them all

    return registry.all_specs()


def _since(value: float | str | None) -> float | None:
    return since(value) if isinstance(value, str) else value

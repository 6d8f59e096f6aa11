"""``runner.api.history``, ``count_runs``, ``show``, ``connectors``, ``installed``: what is
recorded and installed, read for ``runner history``, ``runner show`` (and the reports it
renders of any recorded run) and ``runner connectors``."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.errors import InvalidInput
from runner.model import seconds
from runner.run_progress import so_far
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


def show(run_id: str, *, store: str | None = None, html: str | Path | None = None,
         report_json: str | Path | None = None,
         junit: str | Path | None = None) -> dict[str, Any]:
    """One recorded run, its journal included (and, while it has no report, ``progress``:
    each step's last state, :mod:`runner.run_progress`); with ``html``, ``report_json`` or
    ``junit``, its report written to those files from the store: the same files ``runner run
    --report-html``, ``--report-json`` and ``--junit`` write, for any run (by hand,
    scheduled, a batch's row, a worker's). The store keeps the report masked; nothing is
    unmasked."""
    db = Store(store)
    try:
        row = db.get_run(run_id)
        if row is None:
            raise InvalidInput(f"no run {run_id} in {db.url}", hint="runner history lists them")
        entries = db.entries(run_id)
        row["journal"] = [e.__dict__ for e in entries]
    finally:
        db.close()
    if not row.get("report"):  # not ended yet (parked, waiting, interrupted): where it is
        row["progress"] = [p.__dict__ for p in so_far(row.get("fingerprint"), entries)]
    if html or report_json or junit:
        _write_reports(row, html, report_json, junit)
    return row


def _write_reports(row: dict[str, Any], html: str | Path | None,
                   report_json: str | Path | None, junit: str | Path | None) -> None:
    report = row.get("report")
    if not report:
        raise _no_report(row)
    if report_json or junit:
        from runner.report import write_json, write_junit

        if report_json:
            write_json(report, report_json)
        if junit:
            write_junit(report, junit)
    if html:
        from runner.report_html import write_html

        # the report names the playbook as it was given, relative to the folder the run was
        # started in; the record keeps its absolute path, which the page's links lead to
        write_html(report, html, playbook=row.get("file"))


def _no_report(row: dict[str, Any]) -> InvalidInput:
    """Why a recorded run has no report, and what to do."""
    run_id, status = row["run_id"], row["status"]
    if status in ("queued", "pending", "running", "waiting", "parked"):
        return InvalidInput(f"run {run_id} is {status}: its report is recorded when it ends",
                            hint=f"wait for it (runner history shows when it ends); if nobody "
                            f"works on it: runner resume {run_id}")
    if status == "skipped":
        return InvalidInput(f"run {run_id} was skipped ({row.get('error') or 'never ran'}): "
                            "it has no report", hint="runner history lists the runs that ran")
    why = f": {' '.join(str(row['error']).split())}" if row.get("error") else ""
    return InvalidInput(f"run {run_id} ({status}) has no report: it stopped before its end "
                        f"was recorded{why}",
                        hint=f"runner resume {run_id} finishes it and records its report")


def connectors() -> list[Any]:
    from runner.connectors import registry  # here: only `runner connectors` reads them all

    return registry.all_specs()


@dataclass(frozen=True)
class Installed:
    """What ``runner connectors`` lists: the connectors (``ConnectorSpec``) and the secret
    sources (``runner.secret_source.Listed``: name, the package that provides it, ...)."""

    connectors: list[Any]
    secret_sources: list[Any]


def installed() -> Installed:
    from runner import secret_source

    return Installed(connectors(), secret_source.listing())


def _since(value: float | str | None) -> float | None:
    return since(value) if isinstance(value, str) else value

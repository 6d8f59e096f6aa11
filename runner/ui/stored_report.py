"""A recorded run's HTML report, from the report the store keeps (``runs.report``): the page
``runner run --report-html`` writes, with a bar back to the run list.

The store keeps each run's report as :meth:`runner.results.RunResult.to_dict` made it,
redacted before it was written, so the page is rendered from that dict: no secret is in it to
mask. ``render_html`` takes a run result; until it takes the stored dict itself, a small
stand-in hands it the dict (its one use of the run is ``to_dict()``).
"""

from __future__ import annotations

from typing import Any, cast

from runner.report_html import render_html
from runner.results import RunResult
from runner.secrets import Redactor


class _Stored:
    """A stored report standing in for the run it was made from."""

    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report

    def to_dict(self) -> dict[str, Any]:
        return self.report


def report_page(report: dict[str, Any], nav: str) -> str:
    """The report's page, with ``nav`` (HTML, escaped by its maker) at the top of its body."""
    page = render_html(cast(RunResult, _Stored(report)), Redactor())
    return page.replace("<body>", f"<body>{nav}", 1)

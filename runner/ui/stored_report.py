"""A recorded run's HTML report, from the report the store keeps (``runs.report``): the page
``runner run --report-html`` and ``runner show --html`` write, with a bar back to the run list.

The store keeps each run's report redacted before it was written, so the page is rendered from
that dict with nothing left to mask; its steps' ``file:line`` link to the file the run's record
names (``runs.file``).
"""

from __future__ import annotations

from typing import Any

from runner.report_html import render_html


def report_page(report: dict[str, Any], nav: str, playbook: str | None = None) -> str:
    """The report's page, with ``nav`` (HTML, escaped by its maker) at the top of its body."""
    page = render_html(report, playbook=playbook)
    return page.replace("<body>", f"<body>{nav}", 1)

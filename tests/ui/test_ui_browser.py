"""``runner ui`` in a real browser: Playwright driving Debian's chromium (/usr/bin/chromium;
Playwright cannot download a browser here). The list shows the runs, the status filter
narrows it, a failed run opens on its failure box and timeline, the schedules page lists the
schedule, and a token-protected instance refuses a browser without the token. The tests take
the screenshots docs/ui.md shows; with ``RUNNER_SCREENSHOTS=1`` they write them to
docs/img/ui-runs.png and docs/img/ui-run.png (else to a temporary folder, so a plain ``make
test`` leaves the checkout as it found it).

Without chromium or Playwright they are skipped with the reason, except under ``CI=true``
(``.ci/run`` installs chromium, ``make test`` installs Playwright), where that fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT

from tests.ui.ui_server import SCHEDULE, Recorded, serve

CHROMIUM = "/usr/bin/chromium"

@pytest.fixture(scope="module")
def img(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("RUNNER_SCREENSHOTS") == "1":
        return ROOT / "docs" / "img"
    return tmp_path_factory.mktemp("screenshots")


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true requires it (.ci/run installs chromium, make test "
                    "installs playwright)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 760})
    try:
        yield context.new_page()
    finally:
        context.close()


def test_list_filter_and_open_a_failed_run(recorded: Recorded, ui_url: str, page: Any,
                                           img: Path) -> None:
    page.goto(ui_url + "/")
    rows = page.locator("tr.run")
    assert rows.count() == 8
    for run_id in (recorded.passed, recorded.failed):
        assert page.locator(f"a[href='/runs/{run_id}']").is_visible()
    img.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(img / "ui-runs.png"))

    page.select_option("select[name=status]", "failed")
    page.click("button[type=submit]")
    page.wait_for_url("**/?*status=failed*")
    statuses = page.locator("tr.run").evaluate_all("rs => rs.map(r => r.dataset.status)")
    assert statuses and set(statuses) == {"failed"}
    assert page.locator(f"a[href='/runs/{recorded.failed}']").is_visible()
    assert page.locator(f"a[href='/runs/{recorded.passed}']").count() == 0

    page.click(f"a[href='/runs/{recorded.failed}']")
    page.wait_for_url(f"**/runs/{recorded.failed}")
    failure = page.locator("#failure")
    assert failure.is_visible()
    assert "Installation of fail-setup.exe failed" in failure.inner_text()
    assert page.locator("#timeline").is_visible()
    page.screenshot(path=str(img / "ui-run.png"))

    page.click("nav.ui >> text=Runs")  # the bar leads back
    page.wait_for_url(ui_url + "/")


def test_the_schedules_page(recorded: Recorded, ui_url: str, page: Any) -> None:
    page.goto(ui_url + "/")
    page.click("nav.ui >> text=Schedules")
    page.wait_for_url("**/schedules")  # is_visible() does not wait: the click only starts it
    box = page.locator(f"#schedule-{SCHEDULE}")
    box.wait_for(state="visible")
    assert box.is_visible()
    assert "Europe/Lisbon" in box.inner_text() and recorded.scheduled in box.inner_text()


def test_a_token_protected_instance(recorded: Recorded, page: Any) -> None:
    with serve("--store", str(recorded.store), "--token", "br0wser-t0ken") as url:
        answer = page.goto(url + "/")
        assert answer is not None and answer.status == 401
        assert "needs its token" in page.inner_text("body")
        assert page.locator("tr.run").count() == 0
        page.goto(url + "/?token=br0wser-t0ken")
        assert page.url == url + "/"  # the token left the address bar
        assert page.locator("tr.run").count() == 8
        page.goto(url + "/stuck")  # the cookie carries it from now on
        assert page.locator(".box.stuck").count() == 2

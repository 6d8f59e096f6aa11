"""The HTML report: one self-contained page, failures first, secrets redacted, escaped; and
what headless Chromium shows of it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html import escape
from pathlib import Path
from urllib.parse import quote, quote_plus

from helpers import FAST, ROOT

from runner import api
from runner.report_html import render_html, write_html
from runner.results import FAILED, PASSED, Exchange, RunResult, StepResult
from runner.sandbox import Sandbox
from runner.secrets import MASK, Redactor
from tests.toolchain.browser import chromium, dump_dom, visible_text

HERE = Path(__file__).resolve().parent
LEAKY = HERE / "playbooks" / "leaky.yaml"
SECRET = "s3<cr&t\"P4ss'w0rd"  # HTML-special characters: redacted before it is escaped


def _forms(secret: str) -> list[str]:
    return [secret, escape(secret), escape(secret, quote=False), quote(secret, safe=""),
            quote_plus(secret), json.dumps(secret)[1:-1]]


def page_of(run: RunResult, redactor: Redactor) -> str:
    """The page as ``runner run --report-html`` renders it: from the run's dict, masked."""
    return render_html(redactor.redact_data(run.to_dict()), redactor)


def synthetic() -> RunResult:
    """A failed run with the secret in every place a report shows."""
    t0 = 1_800_000_000.0
    login = Exchange(request={"method": "POST", "url": "http://127.0.0.1:1/api/auth",
                              "json": {"key": SECRET}},
                     response={"status": 200, "headers": {"X-Token": SECRET}, "elapsed_ms": 3.0,
                               "body": json.dumps({"token": SECRET}), "error": None}, at=t0 + 0.01)
    call = Exchange(request={"method": "GET", "url": f"http://127.0.0.1:1/api/x/{SECRET}",
                             "query": {"q": SECRET, "page": "<b>2</b>"},
                             "headers": {"Authorization": f"Bearer {SECRET}"}},
                    response={"status": 500, "headers": {}, "elapsed_ms": 12.5,
                              "body": "<script>alert('x')</script> " + SECRET,
                              "error": f"HTTP 500: {SECRET}"}, attempt=2, at=t0 + 0.2)
    ok = StepResult("login", "step 'login'", "auth", "auth vendor", started=t0,
                    duration_ms=20, exchanges=[login], extracted={SECRET: SECRET})
    bad = StepResult("fetch", "step 'fetch'", "poll", "vendor.fetch", name=f"fetch {SECRET}",
                     status=FAILED, started=t0 + 0.05, duration_ms=400, exchanges=[call],
                     attempts=2, error=f"vendor.fetch refused {SECRET} <img src=x>",
                     hint=f"hint {SECRET}",
                     assertions=[{"that": "response.ok", "passed": False, "values": [SECRET]}])
    return RunResult("20270115-080000-abcdef", f"Fetch <things> {SECRET}", "pb.yaml", "prod",
                     {"token": SECRET, "n": 3}, status=FAILED, started=t0, duration_ms=500,
                     steps=[ok, bad], outputs={"o": SECRET}, error=f"fetch failed: {SECRET}",
                     hint=f"h {SECRET}", failed_step="step 'fetch'")


def test_every_secret_is_masked_and_everything_escaped() -> None:
    page = page_of(synthetic(), Redactor([SECRET]))
    for form in _forms(SECRET):
        assert form not in page, form
    assert page.count(MASK) >= 15
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)" in page
    assert "<img src=x>" not in page and "&lt;b&gt;2&lt;/b&gt;" in page
    assert page.count("<script>") == 1  # the page's own, inline


def test_the_page_is_self_contained() -> None:
    page = page_of(synthetic(), Redactor([SECRET]))
    # nothing is loaded from anywhere: no external script, style, font or image, and a CSP
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b[^>]*\b(src|href)=", page)
    assert "@import" not in page and "url(" not in page and "@font-face" not in page
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', page))
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_failures_come_first() -> None:
    page = page_of(synthetic(), Redactor([SECRET]))
    failure = page.index('id="failure"')
    assert failure < page.index('id="timeline"') < page.index('id="steps"')
    assert page.index("vendor.fetch refused") > failure
    # the failing step is unfolded; the passing one and every request/answer are folded
    assert re.search(r'<details id="step-2" class="st-failed" open>', page)
    assert re.search(r'<details id="step-1" class="st-passed">', page)
    assert '<a href="#step-2">' in page  # from the failure box and the timeline


def test_a_passed_run_has_no_failure_box(tmp_path: Path) -> None:
    run = synthetic()
    run.status, run.error, run.failed_step = PASSED, None, None
    run.steps[1].status, run.steps[1].error = PASSED, None
    red = Redactor([SECRET])
    write_html(red.redact_data(run.to_dict()), tmp_path / "r.html", red)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="failure"' not in page and "PASSED" in page


def real_failed_run(tmp_path: Path) -> tuple[RunResult, Path, list[str]]:
    box = Sandbox({k: dict(v) for k, v in FAST.items()})
    red = Redactor()
    try:
        result = api.run(LEAKY, quiet=True, redactor=red, sandbox=box, store=False)
    finally:
        box.stop()
    assert result.status == FAILED
    page = tmp_path / "report.html"
    write_html(red.redact_data(result.to_dict()), page, red)
    return result, page, [*box.secret_values(), *red.values]


def test_a_real_run_in_the_page(tmp_path: Path) -> None:
    result, page, secrets = real_failed_run(tmp_path)
    html = page.read_text(encoding="utf-8")
    for s in secrets:
        assert s not in html
    wait = next(s for s in result.steps if s.step_id == "wait")
    assert len(wait.exchanges) >= 2
    # one timeline tick per call and poll attempt, one bar per step
    assert html.count('class="tl-x ') == sum(len(s.exchanges) for s in result.steps)
    assert html.count('class="tl-bar ') == len(result.steps)
    assert "hostname=***" in html and escape('"password": "***"') in html


def test_chromium_shows_the_failure_and_no_secret(tmp_path: Path) -> None:
    chromium()  # skipped (or failed under CI=true) without it
    result, page, secrets = real_failed_run(tmp_path)
    dom = dump_dom(page, tmp_path / "profile")
    text = visible_text(dom)
    failed = next(s for s in result.steps if s.status == FAILED)
    assert failed.error and "Installation of fail-setup.exe failed" in failed.error
    # the failing step and its error, at the top of what is shown
    assert f"FAILED at {result.failed_step}" in text
    assert text.index(failed.error) < text.index("Timeline") < text.index("Steps")
    # the step's file:line before its error (its assertion's message holds the vendor's
    # words: no "the vendor said" above it)
    assert text.index(f"{failed.where}") < text.index(failed.error)
    assert "the vendor said" not in text
    assert "expand all" in text and "Distribute a package that fails to install" in text
    for s in secrets:
        assert s not in dom
    # the page's script ran without breaking it: the failing step is open, the others not
    assert re.search(r'<details id="step-5" class="st-failed" open(="")?>', dom)


def test_the_docs_screenshot_script_renders_the_page(tmp_path: Path) -> None:
    chromium()
    png = tmp_path / "report.png"
    proc = subprocess.run([sys.executable, str(ROOT / "docs" / "make_screenshot.py"),
                           "--out", str(png), "--html", str(tmp_path / "r.html")],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # not a blank page


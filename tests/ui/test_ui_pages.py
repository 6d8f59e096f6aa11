"""``runner ui`` over plain HTTP (no browser): each page, its filters, the run page as the
report, what a stuck run's page says to do, and that no secret and no write leaves it."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from helpers import RUNNER

from tests.ui.ui_server import BATCH, PIN, SCHEDULE, Recorded, serve


def get(url: str, *, headers: dict[str, str] | None = None,
        method: str = "GET") -> tuple[int, str, dict[str, str]]:
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode(), {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), {k.lower(): v for k, v in e.headers.items()}


def listed(html: str) -> set[str]:
    """The run ids of the run list's rows."""
    return set(re.findall(r'<tr class="run"[^>]*>\s*<td><a class="mono" href="/runs/([^"]+)"',
                          html))


def test_the_list_shows_every_run_newest_first(recorded: Recorded, ui_url: str) -> None:
    status, html, headers = get(ui_url + "/")
    assert status == 200
    assert listed(html) == {recorded.passed, recorded.failed, recorded.secret_run,
                            recorded.scheduled, recorded.queued, recorded.stale,
                            *recorded.batch}
    assert html.index(recorded.secret_run) < html.index(recorded.failed) \
        < html.index(recorded.passed)
    assert headers["x-frame-options"] == "DENY"


def test_the_filters(recorded: Recorded, ui_url: str) -> None:
    assert listed(get(ui_url + "/?status=failed")[1]) == {recorded.failed, recorded.secret_run}
    assert listed(get(ui_url + "/?status=failed&playbook=distribute-package")[1]) \
        == {recorded.failed}
    assert listed(get(ui_url + f"/?schedule={SCHEDULE}")[1]) == {recorded.scheduled}
    assert listed(get(ui_url + "/?schedule=nightly")[1]) == set()  # a name, not a prefix
    assert listed(get(ui_url + f"/?batch={BATCH}")[1]) == set(recorded.batch)
    assert listed(get(ui_url + "/?since=2099-01-01")[1]) == set()
    assert recorded.queued not in listed(get(ui_url + "/?since=30m")[1])  # an hour old
    assert recorded.queued in listed(get(ui_url + "/?since=1d")[1])
    status, html, _ = get(ui_url + "/?since=yesterday")
    assert status == 400 and "neither a date nor a duration" in html
    status, html, _ = get(ui_url + "/?status=bogus")
    assert status == 400 and "none of queued" in html


def test_a_failed_run_is_its_report(recorded: Recorded, ui_url: str) -> None:
    status, html, _ = get(ui_url + f"/runs/{recorded.failed}")
    assert status == 200
    assert 'id="failure"' in html and 'id="timeline"' in html
    assert "Installation of fail-setup.exe failed" in html  # the vendor's words
    assert '<nav class="ui">' in html and 'href="/"' in html


def test_a_run_without_a_report_and_a_missing_run(recorded: Recorded, ui_url: str) -> None:
    status, html, _ = get(ui_url + f"/runs/{recorded.queued}")
    assert status == 200 and "no report yet" in html and "NTB3" in html
    status, html, _ = get(ui_url + "/runs/no-such-run")
    assert status == 404 and "No run no-such-run" in html


def test_schedules_show_next_fire_times_and_last_runs(recorded: Recorded, ui_url: str) -> None:
    status, html, _ = get(ui_url + "/schedules")
    assert status == 200
    box = html[html.index(f'id="schedule-{SCHEDULE}"'):]
    assert "0 2 * * *" in box and "Europe/Lisbon" in box
    assert len(re.findall(r"\d{4}-\d\d-\d\d 02:00:00 WE[S]?T", box)) == 3  # Lisbon's 02:00
    assert recorded.scheduled in box


def test_waiting_or_stuck_runs_with_their_commands(recorded: Recorded, ui_url: str) -> None:
    status, html, _ = get(ui_url + "/stuck")
    assert status == 200
    boxes = dict(re.findall(r'<div class="box stuck" data-status="(\w+)">(.*?)</div>\s*(?=<div '
                            r'class="box|</main>)', html, re.S))
    assert set(boxes) == {"queued", "running"}
    assert recorded.queued in boxes["queued"] and "runner worker --broker" in boxes["queued"]
    assert f"runner resume {recorded.queued} --store" in boxes["queued"]
    assert recorded.stale in boxes["running"] and "runner resume --stale" in boxes["running"]
    assert recorded.passed not in html and recorded.failed not in html


def test_no_secret_on_any_page(recorded: Recorded, ui_url: str) -> None:
    pages = ["/", "/schedules", "/stuck", "/?status=failed",
             *(f"/runs/{r}" for r in (recorded.passed, recorded.failed, recorded.secret_run))]
    for page in pages:
        assert PIN not in get(ui_url + page)[1], page
    html = get(ui_url + f"/runs/{recorded.secret_run}")[1]
    assert "User was not found" in html and "***" in html  # the input as stored: masked


def test_read_only(recorded: Recorded, ui_url: str) -> None:
    def digest() -> str:
        files = sorted(recorded.store.parent.glob("runs.db*"))
        return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()

    before = digest()
    for page in ("/", "/schedules", "/stuck", f"/runs/{recorded.failed}", "/?status=passed"):
        assert get(ui_url + page)[0] == 200
    assert get(ui_url + "/", method="POST")[0] == 405
    assert digest() == before


def test_a_token_guards_every_page(recorded: Recorded) -> None:
    token = "t0ken-for-ui-tests"
    with serve("--store", str(recorded.store), env={"RUNNER_UI_TOKEN": token}) as url:
        for page in ("/", f"/runs/{recorded.failed}", "/schedules", "/stuck"):
            status, html, _ = get(url + page)
            assert status == 401 and recorded.failed not in html, page
        assert get(url + "/?token=wrong")[0] == 401
        assert get(url + "/", headers={"Authorization": "Bearer wrong"})[0] == 401
        assert get(url + "/", headers={"Authorization": f"Bearer {token}"})[0] == 200
        # ?token= once: a cookie, and the same page without the token in its address
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            opener.open(url + "/?status=failed&token=" + token, timeout=30)
            raise AssertionError("no redirect")
        except urllib.error.HTTPError as e:
            assert e.code == 303 and e.headers["Location"] == "/?status=failed"
            cookie = e.headers["Set-Cookie"].split(";")[0]
            assert "httponly" in e.headers["Set-Cookie"].lower()
        status, html, _ = get(url + "/?status=failed", headers={"Cookie": cookie})
        assert status == 200 and recorded.failed in html and token not in html


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_another_host_needs_a_token(recorded: Recorded, tmp_path: Path) -> None:
    done = subprocess.run([str(RUNNER), "ui", "--store", str(recorded.store), "--host",
                           "0.0.0.0"], capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if k != "RUNNER_UI_TOKEN"})
    assert done.returncode == 2
    assert "needs a token" in done.stderr and "--token" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_store_is_said_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "runs.db"
    done = subprocess.run([str(RUNNER), "ui", "--store", str(missing)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "no run store at" in done.stderr
    assert not missing.exists()


def test_pages_of_fifty_keep_the_filters(tmp_path: Path) -> None:
    from runner.store import Store

    store = tmp_path / "many.db"
    db = Store(str(store))
    try:
        db.create_runs([{"run_id": f"run-{i:03d}", "playbook": "p", "file": "p.yaml",
                         "environment": "sandbox", "inputs": {}, "status": "passed"}
                        for i in range(120)])
    finally:
        db.close()
    with serve("--store", str(store)) as url:
        html = get(url + "/?status=passed")[1]
        assert len(listed(html)) == 50 and "1–50 of 120" in html
        assert 'href="/?status=passed&amp;page=2"' in html and "&larr; newer" not in html
        last = get(url + "/?status=passed&page=3")[1]
        assert len(listed(last)) == 20 and "older &rarr;" not in last
        assert not listed(get(url + "/?status=passed&page=3")[1]) & listed(html)


def test_the_token_redirect_stays_on_this_site(recorded: Recorded) -> None:
    with serve("--store", str(recorded.store), "--token", "t") as url:
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            opener.open(url + "//elsewhere.example/?token=t", timeout=30)
            raise AssertionError("no redirect")
        except urllib.error.HTTPError as e:
            assert e.code == 303 and e.headers["Location"] == "/elsewhere.example/"


def test_a_taken_port_is_said(recorded: Recorded) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([str(RUNNER), "ui", "--store", str(recorded.store), "--port",
                               str(port)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr

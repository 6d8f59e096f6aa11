"""`runner show RUN_ID --html/--json/--junit FILE`: the reports of any recorded run, rendered
from the store, the same files `runner run --report-html/--report-json/--junit` writes; for a
run by hand, a scheduled run and a batch's row; and a run that has no report, said."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from html import unescape
from pathlib import Path
from urllib.parse import unquote

from helpers import PLAYBOOKS, ROOT, cli

from runner.jobs import LocalDispatcher
from runner.schedule_file import load_schedules
from runner.scheduler import Scheduler
from runner.store import Store

DISTRIBUTE = "playbooks/automatos/distribute-package.yaml"  # as given, from ROOT
BY_HOSTNAME = PLAYBOOKS / "automatos" / "distribute-by-hostname.yaml"
VENDOR = "Installation of fail-office.exe failed"  # the simulator's words for this package


def run_ids(store: Path) -> list[str]:
    out = cli("history", "--store", str(store), "--json")
    assert out.returncode == 0, out.stderr
    return [json.loads(line)["run_id"] for line in out.stdout.splitlines()]


def source_links(page: Path) -> list[tuple[str, str]]:
    """(href, text) of every link to a step's file:line on the page."""
    html = page.read_text(encoding="utf-8")
    return [(unescape(h), unescape(t))
            for h, t in re.findall(r'<a class="src" href="([^"]*)">([^<]*)</a>', html)]


def resolves(page: Path, href: str) -> Path:
    """The file a relative link on ``page`` leads to."""
    assert not re.match(r"^[a-z]+:", href), href  # relative: it works wherever both are
    return (page.parent / unquote(href.split("#")[0])).resolve()


def test_show_writes_the_reports_runner_run_wrote(tmp_path: Path) -> None:
    store, ran, shown = tmp_path / "runs.db", tmp_path / "ran", tmp_path / "shown"
    done = cli("run", DISTRIBUTE, "-i", "hostname=NTB1", "-i", "package=fail-office.exe",
               "--store", str(store), "-q", "--report-html", str(ran / "r.html"),
               "--report-json", str(ran / "r.json"), "--junit", str(ran / "j.xml"),
               timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    (run_id,) = run_ids(store)
    # from another folder than the run's: the playbook was named relative to ROOT
    out = cli("show", run_id, "--store", str(store), "--html", str(shown / "r.html"),
              "--json", str(shown / "r.json"), "--junit", str(shown / "j.xml"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert f"HTML report of run {run_id} written to {shown / 'r.html'}" in out.stdout
    # the same files: rendered from the same masked dict by the same code
    assert (shown / "r.json").read_text() == (ran / "r.json").read_text()
    assert (shown / "j.xml").read_text() == (ran / "j.xml").read_text()
    assert (shown / "r.html").read_text() == (ran / "r.html").read_text()  # same folder depth
    report = json.loads((shown / "r.json").read_text())
    assert report["run_id"] == run_id and report["status"] == "failed"
    html = (shown / "r.html").read_text()
    assert 'id="failure"' in html and 'id="timeline"' in html and 'id="steps"' in html
    assert html.count('class="tl-bar ') == len(report["steps"]) == 4
    # the failure box: the step, its file:line, the vendor's words, then the expression
    box = html[html.index('id="failure"'):html.index("</section>")]
    assert "distribute-package.yaml:27</a>" in box
    assert box.index(VENDOR) < box.index("gave a terminal answer (fail-if")
    # every step links to its line in the playbook, relative to the page
    links = source_links(shown / "r.html")
    assert [t for _, t in links] == [f"{DISTRIBUTE}:27"] + [
        f"{DISTRIBUTE}:{n}" for n in (13, 14, 20, 27)]
    for href, text in links:
        assert resolves(shown / "r.html", href) == (ROOT / DISTRIBUTE).resolve()
        assert href.endswith("#L" + text.rsplit(":", 1)[1])


def test_the_links_follow_the_page_wherever_it_is_written(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    done = cli("run", DISTRIBUTE, "-i", "hostname=NTB1", "--store", str(store), "-q")
    assert done.returncode == 0, done.stderr
    (run_id,) = run_ids(store)
    page = tmp_path / "deep" / "er" / "report.html"  # its folders are made
    assert cli("show", run_id, "--store", str(store), "--html", str(page)).returncode == 0
    links = source_links(page)
    assert len(links) == 5 and all(h.startswith("../../") for h, _ in links)
    assert {resolves(page, h) for h, _ in links} == {(ROOT / DISTRIBUTE).resolve()}
    assert 'id="failure"' not in page.read_text()  # it passed


def test_a_scheduled_run_renders_from_the_store(tmp_path: Path) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(f"""schedules:
  - name: nightly
    playbook: {BY_HOSTNAME}
    cron: "* * * * *"
    inputs: {{hostname: NOPE}}
""")
    db = tmp_path / "runs.db"
    store = Store(str(db))
    try:
        local = LocalDispatcher(store)
        sched = Scheduler(load_schedules(path), store, local)
        t0 = (time.time() // 60) * 60
        sched.tick(t0)
        sched.tick(t0 + 60)
        assert local.wait(60)
        (row,) = store.find_runs()
    finally:
        store.close()
    assert row["status"] == "failed" and row["dedup_key"].startswith("nightly@")
    page, junit = tmp_path / "r.html", tmp_path / "j.xml"
    out = cli("show", row["run_id"], "--store", str(db), "--html", str(page),
              "--junit", str(junit))
    assert out.returncode == 0, out.stderr
    html = page.read_text()
    steps = row["report"]["steps"]
    assert html.count('class="tl-bar ') == len(steps) and 'id="timeline"' in html
    box = html[html.index('id="failure"'):html.index("</section>")]
    assert "machine not found" in box and f"FAILED at {row['failed_step']}" in unescape(box)
    assert f"distribute-by-hostname.yaml:{steps[-1]['where'].rsplit(':', 1)[1]}</a>" in box
    assert 'failures="1"' in junit.read_text()


def test_a_batch_row_renders_from_the_store(tmp_path: Path) -> None:
    rows, db = tmp_path / "machines.csv", tmp_path / "runs.db"
    rows.write_text("hostname\nNTB1\nNOPE\n")
    done = cli("run", DISTRIBUTE, "--inputs-from", str(rows), "-c", "2", "-q",
               "--store", str(db), timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    store = Store(str(db))
    try:
        by_host = {r["inputs"]["hostname"]: r for r in store.find_runs()}
    finally:
        store.close()
    for host, status in (("NTB1", "passed"), ("NOPE", "failed")):
        row = by_host[host]
        page, report = tmp_path / f"{host}.html", tmp_path / f"{host}.json"
        out = cli("show", row["run_id"], "--store", str(db), "--html", str(page),
                  "--json", str(report))
        assert out.returncode == 0, out.stderr
        assert json.loads(report.read_text()) == row["report"]  # what the store keeps
        html = page.read_text()
        assert f'<span class="badge b-{status}">' in html
        assert html.count('class="tl-bar ') == len(row["report"]["steps"])
        assert ('id="failure"' in html) == (status == "failed")


def test_a_run_without_a_report_says_why_and_what_to_do(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    store = Store(str(db))
    try:
        store.create_run("20260101-000000-aaaaaa", "p", str(ROOT / DISTRIBUTE), "sandbox", {})
        store.create_run("20260101-000000-bbbbbb", "p", str(ROOT / DISTRIBUTE), "sandbox", {})
        store.update_run("20260101-000000-bbbbbb", status="running")
        store.fail_if_running("20260101-000000-bbbbbb", "the worker died", None)
    finally:
        store.close()
    page = tmp_path / "r.html"
    running = cli("show", "20260101-000000-aaaaaa", "--store", str(db), "--html", str(page))
    assert running.returncode == 2 and "Traceback" not in running.stderr
    assert "its report is recorded when it ends" in running.stderr
    assert "runner resume 20260101-000000-aaaaaa" in running.stderr
    failed = cli("show", "20260101-000000-bbbbbb", "--store", str(db), "--junit", str(page))
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert "(failed) has no report: it stopped before its end was recorded: the worker died" \
        in failed.stderr
    assert not page.exists()
    # the record itself is still shown, as ever
    shown = cli("show", "20260101-000000-bbbbbb", "--store", str(db), "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)["status"] == "failed"


def test_show_loads_the_report_writers_only_when_asked(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    done = cli("run", DISTRIBUTE, "-i", "hostname=NTB1", "--store", str(db), "-q")
    assert done.returncode == 0, done.stderr
    (run_id,) = run_ids(db)
    code = ("import sys; from runner import api; api.show(sys.argv[1], store=sys.argv[2]{}); "
            "print(sorted(m for m in ('runner.report_html', 'runner.report', 'xml.etree') "
            "if m in sys.modules))")
    plain = subprocess.run([sys.executable, "-c", code.format(""), run_id, str(db)],
                           capture_output=True, text=True, cwd=ROOT)
    assert plain.returncode == 0 and plain.stdout.strip() == "[]", plain.stderr
    asked = subprocess.run([sys.executable, "-c", code.format(", html=sys.argv[3]"), run_id,
                            str(db), str(tmp_path / "r.html")],
                           capture_output=True, text=True, cwd=ROOT)
    assert asked.stdout.strip() == "['runner.report', 'runner.report_html']", asked.stderr

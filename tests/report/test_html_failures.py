"""The HTML page's failure box and links: the vendor's words before the expression that
caught the failure, each step's file:line as a link to its file; rendered from a report dict
(what ``runner ui`` and ``runner show`` hand it)."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

from runner.report import vendor_words
from runner.report_html import render_html, write_html

T0 = 1_800_000_000.0
PLAYBOOK = "playbooks/x.yaml"


def answer(body: Any, status: int = 200, error: str | None = None) -> dict[str, Any]:
    return {"request": {"method": "GET", "url": "http://127.0.0.1:1/api/jobs/7"},
            "response": {"status": status, "headers": {}, "elapsed_ms": 2.0,
                         "body": json.dumps(body), "error": error},
            "error": None, "attempt": None, "at": T0 + 0.1}


def step(sid: str, status: str = "passed", line: int = 3, **more: Any) -> dict[str, Any]:
    return {"id": sid, "label": f"step '{sid}'", "kind": "call", "target": "vendor.op",
            "name": "", "status": status, "started": T0, "duration_ms": 10.0,
            "where": f"{PLAYBOOK}:{line}", **more}


def report(*steps: dict[str, Any], error: str | None = None) -> dict[str, Any]:
    failed = next((s for s in steps if s["status"] == "failed"), None)
    return {"run_id": "20270115-080000-abcdef", "playbook": "x", "file": PLAYBOOK,
            "environment": "prod", "inputs": {}, "status": "failed" if failed else "passed",
            "started": T0, "duration_ms": 500.0, "steps": list(steps), "outputs": {},
            "error": error or (failed or {}).get("error"), "hint": None,
            "failed_step": failed and failed["label"]}


WAIT = step("wait", "failed", line=12, error="vendor.op gave a terminal answer (fail-if "
            "`response.json.data.delivered not in ['Y']`)",
            exchanges=[answer({"data": {"delivered": "N",
                                        "error": "Installation of office.exe failed"}})])


def box(page: str) -> str:
    return page[page.index('id="failure"'):page.index("</section>")]


def test_the_vendors_words_come_before_the_expression() -> None:
    page = render_html(report(step("probe"), WAIT))
    failure = box(page)
    words = failure.index("Installation of office.exe failed")
    assert failure.index("step &#x27;wait&#x27;") < words < failure.index("gave a terminal")
    assert failure.count("gave a terminal answer") == 1  # the run's error is the step's
    # the step itself, in the steps below, says them in the same order
    steps = page[page.index('id="steps"'):]
    assert steps.index("Installation of office.exe failed") < steps.index("gave a terminal")


def test_words_the_error_says_already_are_not_repeated() -> None:
    said = dict(WAIT, error="vendor.op: Installation of office.exe failed (HTTP 200)")
    page = render_html(report(said))
    assert "the vendor said" not in page
    assert box(page).index("vendor.op: Installation") < box(page).index("last answer")


def test_a_passed_step_with_an_allowed_error_answer_has_no_vendor_words() -> None:
    probe = step("probe", exchanges=[answer({"error": "no such machine"}, 404,
                                            "no such machine (HTTP 404)")])
    assert "the vendor said" not in render_html(report(probe))


def test_a_loops_sum_comes_after_its_failed_iterations() -> None:
    loop = step("each", "failed", error="1 of 2 iterations failed; first: step 'each'[1]: "
                "vendor.op gave a terminal answer", iterations=[
                    step("each", label="step 'each'[0]"),
                    dict(WAIT, id="each", label="step 'each'[1]")])
    failure = box(render_html(report(loop)))
    assert failure.index("Installation of office.exe failed") < failure.index("1 of 2")


def test_every_step_links_to_its_line(tmp_path: Path) -> None:
    data = report(step("probe", line=3), WAIT)
    page = tmp_path / "out" / "r.html"
    write_html(data, page, playbook="/srv/repo/playbooks/x.yaml")
    links = re.findall(r'<a class="src" href="([^"]*)">([^<]*)</a>', page.read_text())
    # the failure box's, then one per step
    assert [t for _, t in links] == [f"{PLAYBOOK}:12", f"{PLAYBOOK}:3", f"{PLAYBOOK}:12"]
    href = unescape(links[1][0])
    assert not href.startswith(("/", "file:")) and href.endswith("/srv/repo/playbooks/x.yaml#L3")
    assert (page.parent / href.split("#")[0]).resolve() == Path("/srv/repo/playbooks/x.yaml")
    # a page that is no file (a server's): file: URLs, and nothing is fetched from anywhere
    served = render_html(data, playbook="/srv/repo/playbooks/x.yaml")
    assert 'href="file:///srv/repo/playbooks/x.yaml#L3"' in served
    for h in re.findall(r'href="([^"]*)"', served):
        assert h.startswith(("#", "file:///srv/repo/playbooks/x.yaml#L")), h
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\bsrc=", served)


def test_a_relative_playbook_links_from_the_current_folder(tmp_path: Path,
                                                           monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    write_html(report(step("probe")), tmp_path / "r.html")  # as runner run writes it
    (href,) = re.findall(r'<a class="src" href="([^"]*)">', (tmp_path / "r.html").read_text())
    assert href == "playbooks/x.yaml#L3"


def test_vendor_words_in_the_shapes_vendors_answer() -> None:
    def words(body: Any, status: int = 200, error: str | None = None) -> str:
        return vendor_words(answer(body, status, error)["response"])

    assert words({"status": True, "data": {"delivered": "N", "error": "Install failed"}}) \
        == "Install failed"
    assert words({}, 400, "Expired Job (HTTP 400)") == "Expired Job (HTTP 400)"
    assert words({"errors": [{"code": 7, "message": "quota exceeded"}]}) == "quota exceeded"
    assert words({"error": {"message": "token expired"}}) == "token expired"
    assert words({"detail": "not allowed"}, 403) == "not allowed"
    assert words({"message": "OK", "error": ""}) == ""  # a success's message says nothing
    assert words({"result": [{"state": "done"}]}) == ""
    assert vendor_words({"status": 200, "body": '{"error": "cut sho'}) == ""  # cut: unread
    assert vendor_words(None) == "" and vendor_words({"status": 200, "body": "<html>"}) == ""

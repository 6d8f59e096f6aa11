"""ERA's list operation pages by offset/limit (``paginate:`` in its connector file): a call with
``all: true`` against the ERA simulator, real HTTP. Every page is an exchange of the step, the
answer's JSON is the items of all pages, ``max-items`` and the page cap bound it, the remote
tokens of every page stay secret, and a resumed run restores a finished paginated step (and
reads the pages again from the first when the paging itself had failed)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Any

from helpers import PLAYBOOKS, ROOT, RUNNER, cli, run_playbook
from runner.builtin.era.simulator import DEFAULT_CHANNELS, EraSimulator, _error

from runner import api
from runner.errors import PlaybookError
from runner.sandbox import Sandbox
from runner.secrets import Redactor
from runner.simulator import route
from runner.simulator_messages import Reply, Request
from runner.store import Store

COLLECTION = "/rest/v1/service/integration_points"


def channels(n: int, **extra: Any) -> list[dict[str, Any]]:
    base = DEFAULT_CHANNELS[0]
    return [{**base, "id": str(uuid.UUID(int=i + 1)), "code": f"C{i}", **extra}
            for i in range(n)]


def playbook(tmp_path: Path, call: str, more: str = "") -> Path:
    pb = tmp_path / "pb.yaml"
    pb.write_text(f"""\
name: paging
connectors:
  era: {{use: era}}
steps:
  - id: all
    call: era.list_channels
{call}
    extract:
      codes: {{jsonpath: "$[*].code", all: true}}
{more}""")
    return pb


def run(tmp_path: Path, n: int, call: str, more: str = "", **extra: Any) -> Any:
    box = Sandbox({"era": {"channels": channels(n, **extra)}})
    try:
        out = run_playbook(playbook(tmp_path, call, more), tmp_path, sandbox=box)
    finally:
        box.stop()
    return out


def offsets(out: Any) -> list[tuple[int, int]]:
    step = out.result.steps[0]
    return [(e.request["query"].get("offset"), e.request["query"].get("limit"))
            for e in step.exchanges]


def test_every_page_by_offset_and_limit(tmp_path: Path) -> None:
    out = run(tmp_path, 7, "    with: {limit: 2}\n    all: true", """\
    assert:
      - "codes == ['C0', 'C1', 'C2', 'C3', 'C4', 'C5', 'C6']"
      - "response.pages == 4 and response.json | length == 7"
      - "response.status == 200"
""")
    assert out.result.status == "passed", out.console
    # the offset moves by the items each page had; the short 4th page (1 < 2) is the last
    assert offsets(out) == [(0, 2), (2, 2), (4, 2), (6, 2)]
    assert out.sandbox.simulators["era"].calls["list"] == 4
    report = json.loads(out.report_json)
    assert len(report["steps"][0]["exchanges"]) == 4  # each page is in the report
    assert report["steps"][0]["pages"] == 4
    assert "?offset=6&limit=2 -> 200 · 4 pages ·" in out.console


def test_the_json_log_says_each_page_and_how_many(tmp_path: Path) -> None:
    box = Sandbox({"era": {"channels": channels(5)}})
    out = io.StringIO()
    try:
        result = api.run(playbook(tmp_path, "    with: {limit: 2}\n    all: true"),
                         stream=out, log_format="json", sandbox=box, store=False,
                         redactor=Redactor())
    finally:
        box.stop()
    assert result.status == "passed"
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    pages = [e["url"].split("?")[1] for e in events if e["event"] == "exchange"]
    assert pages == ["offset=0&limit=2", "offset=2&limit=2", "offset=4&limit=2"]
    assert next(e for e in events if e["event"] == "step_finished")["pages"] == 3


def test_a_full_last_page_ends_on_the_empty_one_after_it(tmp_path: Path) -> None:
    out = run(tmp_path, 4, "    with: {limit: 2}\n    all: true",
              "    assert: \"codes | length == 4 and response.pages == 3\"\n")
    assert out.result.status == "passed", out.console
    assert offsets(out) == [(0, 2), (2, 2), (4, 2)]


def test_the_connectors_page_size_when_the_call_gives_none(tmp_path: Path) -> None:
    out = run(tmp_path, 7, "    all: true", "    assert: \"codes | length == 7\"\n")
    assert out.result.status == "passed", out.console
    assert offsets(out) == [(0, 100)]  # page_size: 100; 7 < 100 is the last page


def test_filter_order_and_mask_go_with_every_page(tmp_path: Path) -> None:
    out = run(tmp_path, 5, """\
    with: {limit: 2, order: ["-code"], mask: "id,code", filter: {type: public}}
    all: true""", "    assert: \"codes == ['C4', 'C3', 'C2', 'C1', 'C0']\"\n")
    assert out.result.status == "passed", out.console
    queries = [e.request["query"] for e in out.result.steps[0].exchanges]
    assert len(queries) == 3 and all(q["mask"] == "id,code" for q in queries)


def test_max_items_stops_asking(tmp_path: Path) -> None:
    out = run(tmp_path, 7, "    with: {limit: 2}\n    all: true\n    max-items: 3",
              "    assert: \"codes == ['C0', 'C1', 'C2'] and response.pages == 2\"\n")
    assert out.result.status == "passed", out.console
    assert offsets(out) == [(0, 2), (2, 2)]


def test_more_pages_than_the_cap_fail_the_step(tmp_path: Path) -> None:
    out = run(tmp_path, 7, "    with: {limit: 2}\n    all: true\n    max-pages: 2")
    assert out.result.status == "failed"
    assert "the list has more than 2 pages; stopped after 2 pages (4 items)" in out.console
    assert "raise max-pages" in out.console
    assert len(offsets(out)) == 2


def test_an_error_page_fails_the_step_with_the_vendors_words(tmp_path: Path) -> None:
    out = run(tmp_path, 3, "    with: {limit: 2, filter: {nope: 1}}\n    all: true")
    assert out.result.status == "failed"
    assert "Unknown field 'nope' (error_code 1400)" in out.console


def test_allow_error_goes_on_with_the_error_page(tmp_path: Path) -> None:
    out = run(tmp_path, 3, "    with: {limit: 2, filter: {nope: 1}}\n    all: true\n"
              "    allow-error: true", "    assert: \"response.status == 400 and "
              "'nope' in response.error and response.pages == 1\"\n")
    assert out.result.status == "passed", out.console


def test_the_simulator_pages_as_the_doc_says() -> None:
    """The doc's request GET ...?offset=0&limit=2 answers the first two channels; it gives
    no default and no maximum: no limit is the whole list, past the end an empty one."""
    import urllib.request

    with EraSimulator(channels=channels(5)) as sim:
        def ids(query: str) -> list[str]:
            req = urllib.request.Request(f"{sim.url}{COLLECTION}?{query}", headers={
                "Authorization": f"Bearer {sim.api_token}"})
            with urllib.request.urlopen(req) as r:
                return [c["code"] for c in json.loads(r.read())]

        assert ids("offset=0&limit=2") == ["C0", "C1"]
        assert ids("offset=4&limit=2") == ["C4"]
        assert ids("offset=5&limit=2") == []
        assert ids("") == [f"C{i}" for i in range(5)]
        assert ids("offset=3") == ["C3", "C4"]


def test_plan_says_the_call_reads_every_page() -> None:
    done = cli("plan", str(PLAYBOOKS / "era" / "list-all-channels.yaml"))
    assert done.returncode == 0, done.stderr
    assert "then every next page (offset paging, at most 10000 items)" in done.stdout
    listed = cli("connectors").stdout.splitlines()
    line = next(x for x in listed if "era.list_channels" in x)
    assert line.endswith("[pages by offset: all: true reads every page]")


def test_remote_tokens_of_every_page_stay_secret(tmp_path: Path) -> None:
    box = Sandbox({"era": {"channels": [{**c, "token_remote": f"bot-secret-{i}-a1b2c3d4"}
                                        for i, c in enumerate(channels(5))]}})
    try:
        pb = playbook(tmp_path, "    with: {limit: 2}\n    all: true",
                      "    assert: \"response.pages == 3\"\n"
                      "  - assert: \"steps.all.response.json | length == 5\"\n")
        out = run_playbook(pb, tmp_path, sandbox=box)
    finally:
        box.stop()
    assert out.result.status == "passed", out.console
    text = out.outputs()
    assert all(f"bot-secret-{i}-a1b2c3d4" not in text for i in range(5))


def test_the_shipped_playbook_lists_every_channel(tmp_path: Path) -> None:
    box = Sandbox({"era": {"channels": channels(5)}})
    try:
        out = run_playbook(PLAYBOOKS / "era" / "list-all-channels.yaml", tmp_path,
                           {"page_size": 2}, sandbox=box)
    finally:
        box.stop()
    assert out.result.status == "passed", out.console
    assert out.result.outputs["count"] == 5
    assert out.result.outputs["codes"] == [f"C{i}" for i in range(5)]


def test_a_paging_operation_that_is_not_safe_is_refused_when_it_loads(tmp_path: Path) -> None:
    from runner.connectors.loading import load_connector

    bad = tmp_path / "c.yaml"
    bad.write_text("""\
name: bad
operations:
  search:
    method: POST
    path: /search
    params: {offset: {type: integer}, limit: {type: integer}}
    paginate: {style: offset}
""")
    try:
        load_connector(bad)
    except PlaybookError as e:
        text = e.render()
    else:
        raise AssertionError("loaded")
    assert "operation 'search' pages (paginate:) but is not safe to repeat (POST)" in text
    assert "c.yaml:7" in text


# -- resume ------------------------------------------------------------------------------
class FlakyEra(EraSimulator):
    """The list refuses the page at offset 2 while ``broken``: the paging stops half way."""

    broken = False

    @route("GET", COLLECTION, "list")
    def list_channels(self, req: Request) -> Reply:
        if self.broken and req.query.get("offset") == "2":
            return _error(400, "Temporarily refused")
        return super().list_channels(req)


RESUMED = """\
name: resume paging
inputs:
  wanted: {type: string}
connectors:
  era: {use: era}
steps:
  - id: all
    call: era.list_channels
    with: {limit: 2}
    all: true
    extract:
      ids: {jsonpath: "$[*].id", all: true}
  - id: one
    call: era.get_channel
    with: {id: "{{ inputs.wanted }}"}
  - assert:
      - "ids | length == 5"
      - "steps.all.response.pages == 3"
      - "steps.all.response.json[4].code == 'C4'"
"""


def _resume_setup(tmp_path: Path, sim: EraSimulator) -> tuple[Path, Path, Path]:
    pb = tmp_path / "resume.yaml"
    pb.write_text(RESUMED)
    env = tmp_path / "env.yaml"
    env.write_text(f"connectors:\n  era:\n    base_url: {sim.url}\n"
                   "    api_token: {secret: ERA_TOKEN}\n")
    return pb, env, tmp_path / "runs.db"


def test_resume_restores_a_finished_paginated_step(tmp_path: Path, monkeypatch: Any) -> None:
    with FlakyEra(channels=channels(5)) as sim:
        monkeypatch.setenv("ERA_TOKEN", sim.api_token)
        pb, env, store = _resume_setup(tmp_path, sim)
        missing = str(uuid.UUID(int=99))
        first = api.run(pb, env=str(env), store=str(store), quiet=True, redactor=Redactor(),
                        inputs={"wanted": missing})
        assert first.status == "failed"  # get_channel: 404, after the paging passed
        assert sim.calls["list"] == 3
        sim.channels[missing] = {**channels(1)[0], "id": missing, "code": "LATE"}
        again = api.resume(first.run_id, store=str(store), quiet=True, force=True)
        assert again.status == "passed", [s.error for s in again.steps]
        assert sim.calls["list"] == 3  # restored from the journal, not read again
        assert again.steps[0].resumed


def test_resume_reads_every_page_again_when_the_paging_failed(
        tmp_path: Path, monkeypatch: Any) -> None:
    with FlakyEra(channels=channels(5)) as sim:
        monkeypatch.setenv("ERA_TOKEN", sim.api_token)
        pb, env, store = _resume_setup(tmp_path, sim)
        sim.broken = True
        first = api.run(pb, env=str(env), store=str(store), quiet=True, redactor=Redactor(),
                        inputs={"wanted": str(uuid.UUID(int=1))})
        assert first.status == "failed"
        assert "Temporarily refused" in str(first.steps[0].error)
        assert sim.calls["list"] == 2 and sim.calls["get"] == 0
        row = Store(str(store)).get_run(first.run_id)
        assert row is not None and row["status"] == "failed"
        sim.broken = False
        again = api.resume(first.run_id, store=str(store), quiet=True, force=True)
        assert again.status == "passed", [s.error for s in again.steps]
        assert sim.calls["list"] == 5  # safe: all three pages again, from the first


class GatedEra(EraSimulator):
    """The page at offset 2 waits for ``gate`` (while ``holding``): a run can be killed while
    its paging is half way."""

    holding = True

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.gate = threading.Event()
        self.waiting = threading.Event()
        self.offsets: list[str] = []

    @route("GET", COLLECTION, "list")
    def list_channels(self, req: Request) -> Reply:
        self.offsets.append(req.query.get("offset", ""))
        if self.holding and req.query.get("offset") == "2":
            self.waiting.set()
            self.gate.wait(30)
        return super().list_channels(req)


def test_sigkill_while_paging_then_resume_reads_every_page(tmp_path: Path) -> None:
    """A real `runner run` killed (SIGKILL) while it waits for the second page: the run is
    left running; `runner resume` reads the list again from the first page and passes."""
    with GatedEra(channels=channels(5)) as sim:
        pb, env, store = _resume_setup(tmp_path, sim)
        secrets = {"ERA_TOKEN": sim.api_token}
        proc = subprocess.Popen(
            [str(RUNNER), "run", str(pb), "--env", str(env), "--store", str(store),
             "-i", f"wanted={uuid.UUID(int=1)}"], cwd=ROOT, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env={**os.environ, **secrets})
        try:
            assert sim.waiting.wait(30), "the second page was never asked for"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            proc.kill()
            sim.holding = False
            sim.gate.set()
        assert sim.offsets == ["0", "2"]
        db = Store(str(store))
        run_id = str(db.find_runs()[0]["run_id"])
        row = db.get_run(run_id)
        assert row is not None and row["status"] == "running"  # killed: nobody closed it
        resumed = cli("resume", run_id, "--store", str(store), "--force", env=secrets)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert sim.offsets == ["0", "2", "0", "2", "4"]
        assert "· 3 pages" in resumed.stdout
        final = db.get_run(run_id)
        assert final is not None and final["status"] == "passed"
        db.close()

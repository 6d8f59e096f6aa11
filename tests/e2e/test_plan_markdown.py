"""``runner plan --format markdown``: the plan as a comment a CI job posts on a pull request —
read back with a real Markdown parser (markdown-it-py, GFM tables), run as a real process."""

from __future__ import annotations

from pathlib import Path

from helpers import PLAYBOOKS, cli
from md_tables import tables
from plan_repo import DESK_KEY, ENV, FIRST, NOTIFY, TOKEN, second

from runner.errors import EXIT_OK


def _plan(tmp_path: Path, *args: str) -> str:
    (tmp_path / "parts").mkdir(exist_ok=True)
    (tmp_path / "parts" / "notify.yaml").write_text(NOTIFY)
    (tmp_path / "tickets.yaml").write_text(second(FIRST))
    (tmp_path / "env.yaml").write_text(ENV)
    proc = cli("plan", str(tmp_path / "tickets.yaml"), "-e", str(tmp_path / "env.yaml"),
               "-i", f"token={TOKEN}", "-i", "priority=high", *args, env={"DESK_KEY": DESK_KEY})
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    for secret in (TOKEN, DESK_KEY):
        assert secret not in proc.stdout + proc.stderr
    return proc.stdout


def test_markdown_lists_the_requests_in_order_unsafe_marked_secrets_masked(
        tmp_path: Path) -> None:
    out = _plan(tmp_path, "--format", "markdown")
    assert out.startswith("### runner plan: tickets\n"), out
    requests, inputs = tables(out)
    assert requests[0] == ["#", "step", "request", "parameters", "runs", "safe to repeat"]
    rows = requests[1:]
    assert [r[1] for r in rows] == ["open", "health", "list", "fetch", "notify/ping",
                                    "desk GET /status"]
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    by_step = {r[1]: r for r in rows}
    assert by_step["open"][2] == "desk POST /tickets"
    assert by_step["open"][3] == 'json: {"title": "printer on fire", "priority": "high"}'
    assert by_step["open"][5] == "⚠ not safe to repeat"
    assert by_step["list"][3].splitlines() == ["team=ops", "state=closed", "X-Auth-Token: ***"]
    assert [r[5] for r in rows].count("yes") == 5
    assert by_step["notify/ping"][2] == "desk GET /notify/v1/<team>"  # a placeholder, as text
    assert inputs[0][:2] == ["input", "value"]
    assert inputs[1:] == [["token", "***", "given"], ["team", "ops", "default"],
                          ["priority", "high", "given"]]
    assert "secrets show as `***`" in out


def test_the_folded_text_plan_is_the_text_plan(tmp_path: Path) -> None:
    markdown = _plan(tmp_path, "--format", "markdown")
    text = _plan(tmp_path)
    folded = markdown.split("```text\n", 1)[1].split("\n```\n", 1)[0]
    assert folded + "\n" == text


def test_a_value_with_pipes_and_backticks_stays_in_its_cell(tmp_path: Path) -> None:
    pb = tmp_path / "pb.yaml"
    pb.write_text("name: odd\nconnectors:\n  desk: {use: http}\nsteps:\n"
                  "  - id: search\n    call: desk\n    method: GET\n    path: /search\n"
                  "    query: {q: 'a|b `c` <d> **e**'}\n"
                  "    when: \"'|' in 'a|b'\"\n")
    env = tmp_path / "env.yaml"
    env.write_text("connectors:\n  desk: {base_url: 'https://desk.example'}\n")
    proc = cli("plan", str(pb), "-e", str(env), "--format", "markdown")
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    [requests] = tables(proc.stdout)
    assert requests[1] == ["1", "search", "desk GET /search", "q=a|b `c` <d> **e**",
                           "when '|' in 'a|b'", "yes"]


def test_an_included_looped_playbook_keys_its_requests_by_the_include(tmp_path: Path) -> None:
    proc = cli("plan", str(PLAYBOOKS / "onboard-employee.yaml"), "--format", "markdown")
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    rows = {r[1]: r for r in tables(proc.stdout)[0][1:]}
    assert rows["software/job"][4] == "for each of {{ inputs.packages }}"
    assert rows["software/job"][5] == "⚠ not safe to repeat"
    assert rows["chat/create"][4] == "when steps.find.response.status_code == 404"
    # a request only a run can render says why, with its method and path as written
    assert rows["phone/create"][2] == "mor.device_create POST /device_create"
    assert rows["phone/create"][3].startswith("rendered at run time: mor.device_create:")

"""``runner plan --diff REV``: the requests a change adds, removes or alters, against the same
playbook (and its includes) at a git revision — run as a real process on a real repository
with two commits (``tests/plan_repo.py`` says what the second changes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import cli
from md_tables import tables
from plan_repo import DESK_KEY, ENV, FIRST, GIT_ENV, NOTIFY, TOKEN, git, second, two_commits

from runner.errors import EXIT_INVALID, EXIT_OK


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    two_commits(tmp_path)
    return tmp_path


def plan(repo: Path, *args: str, cwd: Path | None = None,
         inputs: tuple[str, ...] = (f"token={TOKEN}", "priority=high")) -> tuple[int, str, str]:
    given = [arg for pair in inputs for arg in ("-i", pair)]
    proc = cli("plan", *args, "-e", str(repo / "env.yaml"), *given, cwd=cwd or repo,
               env={**GIT_ENV, "DESK_KEY": DESK_KEY,
                    "GIT_CEILING_DIRECTORIES": str(repo.parent)})
    for secret in (TOKEN, DESK_KEY):
        assert secret not in proc.stdout + proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def test_the_diff_names_each_change_and_marks_the_unsafe_one(repo: Path) -> None:
    code, out, err = plan(repo, "playbooks/tickets.yaml", "--diff", "HEAD~1")
    assert code == EXIT_OK, out + err
    lines = out.splitlines()
    assert lines[0].startswith("plan diff · tickets (playbooks/tickets.yaml) · HEAD~1 (")
    changed = [line for line in lines if line[:2] in ("+ ", "- ", "~ ")]
    assert changed == [  # in the order a run would send them; the removed one where it was
        "+ added open: desk POST /tickets   ⚠ not safe to repeat",
        "~ altered list: desk GET /tickets",
        "- removed old: desk GET /tickets/stale",
        "~ altered fetch: desk GET /v2/tickets/1",
        "~ altered notify/ping: desk GET /notify/v2/<team>",
    ], out
    assert '      json: {"title": "printer on fire", "priority": "high"}' in lines
    assert "      query state: open -> closed" in lines  # a parameter
    assert "      path: /tickets/1 -> /v2/tickets/1" in lines  # a path
    assert "      path: /notify/v1/<team> -> /notify/v2/<team>" in lines  # in an include, at HEAD~1
    # a secret header renamed: its value is *** on both sides, never itself
    assert "      header X-Token: *** -> (none)" in lines, out
    assert "      header X-Auth-Token: (none) -> ***" in lines, out
    # health, and the step without an id whose generated id moved (step6 -> step7)
    assert lines[-1] == "1 added, 1 removed, 3 altered, 2 unchanged", out


def test_an_unknown_revision_is_refused_with_what_to_give(repo: Path) -> None:
    code, out, err = plan(repo, str(repo / "playbooks" / "tickets.yaml"), "--diff", "no-such",
                          cwd=repo.parent)
    assert code == EXIT_INVALID, out + err
    assert "--diff no-such: the repository" in err and "has no revision 'no-such'" in err
    assert "hint: give a commit, branch or tag" in err and "Traceback" not in err
    code, out, err = plan(repo, "playbooks/tickets.yaml", "--diff", "--upload-pack=x")
    assert code == EXIT_INVALID and "has no revision" in err, out + err


def test_a_playbook_outside_git_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pb.yaml").write_text(NOTIFY)
    (tmp_path / "env.yaml").write_text(ENV)
    code, out, err = plan(tmp_path, "pb.yaml", "--diff", "HEAD")
    assert code == EXIT_INVALID, out + err
    assert "--diff HEAD: pb.yaml is not in a git repository" in err, err
    assert "hint: " in err and "Traceback" not in err


def test_a_playbook_new_in_the_change_has_every_request_added(repo: Path) -> None:
    new = repo / "playbooks" / "brand-new.yaml"
    new.write_text(second(FIRST).replace("name: tickets", "name: brand new"))
    code, out, err = plan(repo, "playbooks/brand-new.yaml", "--diff", "HEAD")
    assert code == EXIT_OK, out + err
    assert "which has no playbooks/brand-new.yaml" in out.splitlines()[0], out
    assert out.splitlines()[-1] == "6 added, 0 removed, 0 altered, 0 unchanged", out


def test_the_revision_s_own_errors_name_it(repo: Path) -> None:
    broken = repo / "playbooks" / "tickets.yaml"
    broken.write_text(FIRST.replace("    method: GET\n    path: /health\n",
                                    "    method: GET\n    path: /health\n    bogus: 1\n"))
    git(repo, "commit", "-q", "-a", "-m", "broken")
    broken.write_text(FIRST)
    code, out, err = plan(repo, "playbooks/tickets.yaml", "--diff", "HEAD")
    assert code == EXIT_INVALID, out + err
    assert "error: the playbook at HEAD: HEAD:playbooks/tickets.yaml:" in err, err
    assert "bogus" in err and "runner-plan-" not in err  # no temporary folder's name


def test_markdown_diff_is_a_table_of_the_changes(repo: Path) -> None:
    code, out, err = plan(repo, "playbooks/tickets.yaml", "--diff", "HEAD~1",
                          "--format", "markdown")
    assert code == EXIT_OK, out + err
    assert out.startswith("### runner plan --diff HEAD\\~1: tickets\n"), out
    [table] = tables(out)
    assert table[0] == ["change", "step", "request", "what", "safe to repeat"]
    rows = {row[1]: row for row in table[1:]}
    assert [row[1] for row in table[1:]] == ["open", "list", "old", "fetch", "notify/ping"]
    assert rows["open"][0] == "added" and rows["open"][4] == "⚠ not safe to repeat"
    assert rows["open"][2] == "desk POST /tickets"
    assert rows["old"][0] == "removed" and rows["old"][4] == "yes"
    assert rows["list"][3].splitlines() == ["query state: open -> closed",
                                            "header X-Token: *** -> (none)",
                                            "header X-Auth-Token: (none) -> ***"]
    assert rows["fetch"][3] == "path: /tickets/1 -> /v2/tickets/1"
    assert "**1 added, 1 removed, 3 altered**, 2 unchanged" in out


CONNECTOR = """\
name: helpdesk
settings:
  base_url: {required: true}
operations:
  create_ticket:
    method: POST
    path: /v1/tickets
    params:
      title: {type: string, required: true}
"""


def test_a_connector_file_of_the_repository_is_taken_at_the_revision_too(tmp_path: Path) -> None:
    (tmp_path / "connectors").mkdir()
    (tmp_path / "playbooks").mkdir()
    connector = tmp_path / "connectors" / "helpdesk.yaml"
    connector.write_text(CONNECTOR)
    (tmp_path / "playbooks" / "open.yaml").write_text(
        "name: open\nconnectors:\n  desk: {use: helpdesk}\nsteps:\n"
        "  - {id: open, call: desk.create_ticket, with: {title: fire}}\n")
    (tmp_path / "env.yaml").write_text("connectors:\n  desk: {base_url: 'https://d.example'}\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "first")
    connector.write_text(CONNECTOR.replace("/v1/tickets", "/v2/tickets"))
    code, out, err = plan(tmp_path, "playbooks/open.yaml", "--diff", "HEAD", inputs=())
    assert code == EXIT_OK, out + err
    assert "~ altered open: desk.create_ticket POST /v2/tickets   ⚠ not safe to repeat" in out
    assert "      path: /v1/tickets -> /v2/tickets" in out.splitlines(), out

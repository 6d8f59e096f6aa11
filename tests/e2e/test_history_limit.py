"""`runner history` says how many runs its --limit left out, so a long history never looks
shorter than it is."""

from __future__ import annotations

import json

from helpers import ROOT, cli

TINY = str(ROOT / "tests" / "distributed" / "get_machine.yaml")


def test_history_says_how_many_runs_it_did_not_show() -> None:
    for _ in range(3):
        assert cli("run", TINY, "-q").returncode == 0
    shown = cli("history", "--limit", "2")
    assert shown.returncode == 0, shown.stderr
    assert len([line for line in shown.stdout.splitlines() if " passed " in line]) == 2
    assert "1 more run(s) not shown (the newest 2 are); --limit 3 shows them all" \
        in shown.stdout
    as_json = cli("history", "--limit", "2", "--json")
    assert [json.loads(line)["status"] for line in as_json.stdout.splitlines()] == \
        ["passed", "passed"]  # the note goes to stderr: stdout stays JSON lines
    assert "1 more run(s) not shown" in as_json.stderr
    everything = cli("history", "--limit", "3")
    assert "not shown" not in everything.stdout + everything.stderr

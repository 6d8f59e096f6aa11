"""The README's zero-Python example, as written: its connector file, playbook and environment
(each block names its path in a first comment line) laid out as a repository, then validated
and planned by the installed ``runner`` command there, with nothing installed."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import ROOT, cli

from runner.errors import EXIT_OK


def _blocks() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Any HTTP API, no Python", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n# (\S+)\n(.*?)```", section, re.S)
    return dict(blocks)


def test_the_readme_example_validates_and_plans(tmp_path: Path) -> None:
    blocks = _blocks()
    assert set(blocks) == {"connectors/tickets.yaml", "playbooks/open-ticket.yaml",
                           "environments/ci.yaml"}
    for name, text in blocks.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    proc = cli("validate", "playbooks/open-ticket.yaml", cwd=tmp_path)
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    proc = cli("plan", "playbooks/open-ticket.yaml", "--env", "ci", "-i", "title=x",
               cwd=tmp_path, env={"DESK_URL": "https://desk.internal"})
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    assert "https://desk.internal/tickets" in proc.stdout, proc.stdout
    assert "https://desk.internal/health" in proc.stdout, proc.stdout

"""``runner.api.init``: a repository of playbooks scaffolded in a folder (``runner init``)."""

from __future__ import annotations

from pathlib import Path

from runner.scaffold import Scaffolded
from runner.scaffold import init as scaffold


def init(folder: str | Path = ".", *, force: bool = False) -> Scaffolded:
    """Write a sample playbook, an example environment, ``.vscode/settings.json``,
    ``.pre-commit-config.yaml`` and the schemas into ``folder``; a file there already is kept
    unless ``force``. What was written and what was kept."""
    return scaffold(Path(folder), force=force)

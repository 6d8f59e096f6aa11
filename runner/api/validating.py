"""``runner.api.validate``: load and check playbooks. It imports the loader only (not the
engine, not the store), so ``runner validate`` starts fast (bench/cold_start.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from runner.model import Playbook
from runner.playbook import load_playbook


def validate(paths: Sequence[str | Path], *, root: str | Path | None = None) -> list[Playbook]:
    """Load and check each playbook; raises PlaybookError at the first invalid one.

    ``root``: the folder includes must stay inside (default: each playbook's folder).
    """
    return [load_playbook(p, root=root) for p in paths]

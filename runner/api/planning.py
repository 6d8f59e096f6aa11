"""``runner.api.plan``: the requests a run would send, secrets redacted; nothing is sent."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from runner.environment import load_environment
from runner.plan import print_plan
from runner.playbook import load_playbook


def plan(path: str | Path, *, env: str | None = "sandbox",
         inputs: Mapping[str, Any] | None = None, stream: IO[str] | None = None,
         root: str | Path | None = None) -> None:
    playbook = load_playbook(path, root=root)
    environment = load_environment(env, search=Path(path))
    print_plan(playbook, environment, inputs or {}, stream or sys.stdout)

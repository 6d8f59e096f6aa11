"""Run one playbook here, with no console and no report files: what a batch row, a worker's
job and a resumed run need below :mod:`runner.api`, which adds the console and the reports.

One place loads the playbook (unless the caller has it loaded), finds the environment next to
it and hands both to :func:`runner.engine.execute`; the ops modules (batch, jobs, resume) call
this instead of ``runner.api.run``, so they sit under the api, never above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.engine import execute
from runner.environment import load_environment
from runner.model import Playbook
from runner.playbook import load_playbook
from runner.results import Listener, RunResult
from runner.secrets import Redactor
from runner.store import Store


def launch(playbook: str | Path | Playbook, *, env: str | None = "sandbox",
           inputs: Mapping[str, Any] | None = None, store: Store | None = None,
           listeners: list[Listener] | None = None, redactor: Redactor | None = None,
           root: str | Path | None = None, **execute_kw: Any) -> RunResult:
    """Load (a path) and run ``playbook`` in environment ``env``; ``execute_kw`` go to
    :func:`runner.engine.execute` (run_id, resume, sandbox, cancel, worker, batch_id, ...).

    ``root``: the folder includes must stay inside (default: the playbook's folder).
    """
    # a loaded playbook (a batch loads and checks it once for all its runs) or a file
    loaded = playbook if isinstance(playbook, Playbook) else load_playbook(playbook, root=root)
    environment = load_environment(env, search=Path(loaded.file))
    return execute(loaded, environment, inputs or {}, listeners=listeners,
                   redactor=redactor or Redactor(), store=store, **execute_kw)

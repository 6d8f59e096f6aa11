"""The top door: everything ``runner`` does, as functions; the command line is a thin shell
over them (``runner/cli/``), and so can any program be.

One module per verb, named for what it does (a module named as its function would shadow
it on the package): ``running`` (one run here), ``batching`` (one run per row of a file),
``submitting`` (runs handed to workers), ``resuming`` (a run, a batch or every stale run taken
up again), ``scheduling`` (the scheduler, schedule files), ``workers``, ``records`` (history,
show, connectors), ``viewing`` (``runner ui``), ``editing`` (``runner lsp``), ``planning``,
``validating``, ``sandboxes``, ``schemas``, ``scaffolding`` (``runner init``). They call the
ops modules (batch, jobs, distributed, scheduler, resume, ...), which never call back up.

The names load when first used (PEP 562 ``__getattr__``): ``from runner.api import validate``
loads the playbook loader only, not the engine or the store, so ``runner validate`` and
``runner --version`` start fast (bench/cold_start.py).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.api.batching import run_batch
    from runner.api.editing import lsp
    from runner.api.importing import import_arazzo
    from runner.api.inputting import parse_inputs
    from runner.api.planning import plan
    from runner.api.records import connectors, count_runs, history, history_page, show, since
    from runner.api.resuming import resume, resume_batch, resume_stale
    from runner.api.running import run
    from runner.api.sandboxes import sandbox
    from runner.api.scaffolding import init
    from runner.api.scheduling import schedule, schedules
    from runner.api.schemas import write_schemas
    from runner.api.submitting import submit
    from runner.api.validating import validate
    from runner.api.viewing import ui
    from runner.api.workers import worker

__all__ = ["connectors", "count_runs", "history", "history_page", "import_arazzo", "init", "lsp",
           "parse_inputs", "plan", "resume", "resume_batch", "resume_stale", "run", "run_batch",
           "sandbox", "schedule", "schedules", "show", "since", "submit", "ui", "validate",
           "worker", "write_schemas"]

# the module each public name lives in (tests/toolchain/test_cli_thin.py: the same as __all__)
_HOME = {
    "run": "running", "run_batch": "batching", "submit": "submitting", "plan": "planning",
    "validate": "validating", "worker": "workers", "sandbox": "sandboxes",
    "write_schemas": "schemas", "ui": "viewing", "lsp": "editing", "init": "scaffolding",
    "parse_inputs": "inputting", "import_arazzo": "importing",
    **dict.fromkeys(("resume", "resume_batch", "resume_stale"), "resuming"),
    **dict.fromkeys(("schedule", "schedules"), "scheduling"),
    **dict.fromkeys(("history", "history_page", "count_runs", "show", "connectors", "since"),
                    "records"),
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'runner.api' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"runner.api.{home}"), name)
    globals()[name] = value  # once loaded, a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

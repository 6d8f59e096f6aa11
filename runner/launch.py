"""Run one playbook here, with no console and no report files: what a batch row, a worker's
job and a resumed run need below :mod:`runner.api`, which adds the console and the reports.

One place loads the playbook (unless the caller has it loaded), finds the environment next to
it and hands both to :func:`runner.engine.execute`; the ops modules (batch, jobs, resume) call
this instead of ``runner.api.run``, so they sit under the api, never above it.

So it is also where every run ends: the notifications (``notify:`` of the playbook, of the
environment, and the schedule's, handed in as ``notify``) are sent here, once the run is done
(:mod:`runner.notify`), for a run that started; what they cannot send is a warning, never the
run's outcome.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from runner.engine import execute
from runner.environment import Environment, load_environment
from runner.errors import InvalidInput, RunnerError
from runner.extras import need
from runner.model import Playbook
from runner.notify_targets import Target
from runner.playbook import load_playbook
from runner.results import FAILED, PARKED, Listener, RunResult
from runner.run_ids import new_run_id
from runner.secrets import Redactor
from runner.store import Store

Warn = Callable[[str], None]


def need_notify(playbook: Playbook, environment: Environment,
                notify: Sequence[Target] = ()) -> None:
    """A run with targets to tell needs the notify extra: one that could not tell of its end
    must not start. Said at the first target."""
    targets = (*playbook.notify, *environment.notify, *notify)
    if targets:
        need("notify", f"the notify target at {targets[0].where}")


def launch(playbook: str | Path | Playbook, *, env: str | Environment | None = "sandbox",
           inputs: Mapping[str, Any] | None = None, store: Store | None = None,
           listeners: list[Listener] | None = None, redactor: Redactor | None = None,
           root: str | Path | None = None, notify: Sequence[Target] = (),
           warn: Warn | None = None, **execute_kw: Any) -> RunResult:
    """Load (a path) and run ``playbook`` in environment ``env``; ``execute_kw`` go to
    :func:`runner.engine.execute` (run_id, resume, sandbox, cancel, worker, batch_id, ...).

    ``root``: the folder includes must stay inside (default: the playbook's folder).
    ``notify``: targets besides the playbook's and the environment's (a schedule's);
    ``warn``: where a notification that could not be sent is said (default: stderr).
    """
    # a loaded playbook (a batch loads and checks it once for all its runs) or a file
    loaded = playbook if isinstance(playbook, Playbook) else load_playbook(playbook, root=root)
    # a name or a file, or an environment a batch loaded once for all its runs
    environment = env.fresh() if isinstance(env, Environment) else \
        load_environment(env, search=Path(loaded.file))
    redactor = redactor or Redactor()
    if not (loaded.notify or environment.notify or notify):
        return execute(loaded, environment, inputs or {}, listeners=listeners,
                       redactor=redactor, store=store, **execute_kw)
    need_notify(loaded, environment, notify)
    from runner import notify as notifying  # a run with a target only: apprise behind it

    say = warn or notifying.to_stderr
    targets = notifying.resolve([(loaded.notify, os.environ.get),
                                 (environment.notify, _secret_of(environment, say)),
                                 (notify, os.environ.get)], redactor)
    started = _Started()
    execute_kw["run_id"] = execute_kw.get("run_id") or new_run_id()  # named if it raises
    try:
        result = execute(loaded, environment, inputs or {}, redactor=redactor, store=store,
                         listeners=[*(listeners or []), started], **execute_kw)
    except InvalidInput as e:  # a secret missing when the run started: it failed, recorded
        if started.run is not None:
            failed = started.run
            failed.status, failed.error = FAILED, redactor.redact(e.message)
            failed.hint = redactor.redact(e.hint) if e.hint else None
            failed.failed_step = getattr(e, "step", None) or None
            notifying.notify_run(targets, failed, loaded, redactor, warn=say)
        raise
    if result.status != PARKED:  # parked on a worker: told when it ends, not now
        notifying.notify_run(targets, result, loaded, redactor, warn=say)
    return result


class _Started(Listener):
    """Keeps the run once the engine has started it: a run that raises after that ended."""

    run: RunResult | None = None

    def run_started(self, run: RunResult) -> None:
        self.run = run


def _secret_of(environment: Environment, warn: Callable[[str], None]
               ) -> Callable[[Any], str | None]:
    """An environment file's secrets: the variable, else its secrets file, or any other
    source; a source that fails (a command) says why, and the target is not sent to."""
    def lookup(ref: Any) -> str | None:
        try:
            return environment.lookup_secret(ref, "notify")
        except RunnerError as e:
            if not isinstance(ref, str):  # an unset variable is said by notify_run
                warn(f"notify: {e.message}" + (f" ({e.hint})" if e.hint else ""))
            return None
    return lookup

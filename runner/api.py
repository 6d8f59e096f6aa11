"""The library API the CLI is a thin shell over: validate, run, plan, connectors."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from runner.engine import execute
from runner.environment import load_environment
from runner.fingerprint import check as check_fingerprint
from runner.journal import ResumeState
from runner.model import Playbook
from runner.playbook import load_playbook
from runner.progress import LiveProgress, console_listener
from runner.report import write_json, write_junit
from runner.report_html import write_html
from runner.results import Listener, RunResult
from runner.secrets import MASK, Redactor
from runner.store import Store


def validate(paths: Sequence[str | Path], *, root: str | Path | None = None) -> list[Playbook]:
    """Load and check each playbook; raises PlaybookError at the first invalid one.

    ``root``: the folder includes must stay inside (default: each playbook's folder).
    """
    return [load_playbook(p, root=root) for p in paths]


def run(
    path: str | Path | Playbook,
    *,
    env: str | None = "sandbox",
    inputs: Mapping[str, Any] | None = None,
    report_json: str | Path | None = None,
    junit: str | Path | None = None,
    report_html: str | Path | None = None,
    stream: IO[str] | None = None,
    quiet: bool = False,
    progress: bool = True,
    log_format: str = "text",
    listeners: list[Listener] | None = None,
    redactor: Redactor | None = None,
    sandbox: Any = None,
    store: Store | str | bool | None = None,
    run_id: str | None = None,
    resume: ResumeState | None = None,
    dedup_key: str | None = None,
    cancel: Any = None,
    remap: bool = False,
    worker: bool = False,
    batch_id: str | None = None,
    batch_row: int | None = None,
    root: str | Path | None = None,
) -> RunResult:
    """Validate and run a playbook, print the console report, write the requested files.

    ``path``: the playbook's file, or a :class:`Playbook` already loaded (and so checked).

    ``store``: a Store, a path or URL, None for the default store, False for none.
    ``progress``: on a terminal, a live line for polls and loops (else plain lines);
    ``log_format``: "text", or "json" for one JSON object per event on ``stream``.
    ``cancel``: a ``threading.Event``; setting it stops the run as Ctrl-C would (resumable).
    ``remap``, ``worker``: with ``resume``, how a playbook changed since the run was recorded
    is handled (:func:`runner.engine.execute`); ``batch_id``, ``batch_row``: the batch this
    run is a row of.
    ``root``: the folder includes must stay inside (default: the playbook's folder).
    """
    # a loaded playbook (a batch loads and checks it once for all its runs) or a file
    playbook = path if isinstance(path, Playbook) else load_playbook(path, root=root)
    environment = load_environment(env, search=Path(playbook.file))
    redactor = redactor or Redactor()
    listeners = list(listeners or [])
    console = None
    if not quiet:
        console = console_listener(redactor, stream or sys.stdout, progress=progress,
                                   log_format=log_format)
        listeners.insert(0, console)
    opened = None
    if store is not False and not isinstance(store, Store):
        opened = store = Store(store if isinstance(store, str) else None)
    try:
        result = execute(playbook, environment, inputs or {}, listeners=listeners,
                         redactor=redactor, sandbox=sandbox,
                         store=store if isinstance(store, Store) else None,
                         run_id=run_id, resume=resume, dedup_key=dedup_key, cancel=cancel,
                         remap=remap, worker=worker, batch_id=batch_id, batch_row=batch_row)
    finally:
        if opened is not None:
            opened.close()
        if isinstance(console, LiveProgress):
            console.close()  # a run that raised leaves no live line behind
    if report_json:
        write_json(result, report_json, redactor)
    if junit:
        write_junit(result, junit, redactor)
    if report_html:
        write_html(result, report_html, redactor)
    return result


def resume(run_id: str, *, store: Store | str | None = None,
           inputs: Mapping[str, Any] | None = None, force: bool = False,
           remap: bool = False, stale_after: float | None = None,
           root: str | Path | None = None, **kw: Any) -> RunResult:
    """Continue an interrupted, crashed, errored or failed run: finished steps are not run
    again.

    The run is claimed first, as a worker claims it (:mod:`runner.ownership`): a run that looks
    alive is refused unless ``force``; two resumes at once, or a resume and a worker taking the
    run over, cannot both run it. Every write of this attempt is fenced by its ownership and a
    heartbeat keeps the run looking alive while it waits in a poll.

    A run whose playbook (or a playbook it includes) changed since it was recorded is refused,
    before it is claimed, with what changed; ``remap`` carries its finished steps over to the
    edited playbook by step id and content instead (:mod:`runner.fingerprint`).
    """
    from runner.errors import InvalidInput, RunnerError
    from runner.ownership import STALE_AFTER, LostOwnership, claim_run, new_owner, owned, settle

    db = store if isinstance(store, Store) else Store(store)
    if stale_after is None:
        stale_after = STALE_AFTER
    try:
        row = db.get_run(run_id)
        if row is None:
            raise InvalidInput(f"no run {run_id} in {db.url}",
                               hint="runner history lists the runs; --store picks the store")
        if row["status"] == "passed":
            raise InvalidInput(f"run {run_id} passed already; there is nothing to resume")
        # refused before the claim, so a refusal leaves the run as it was
        playbook = load_playbook(row["file"], root=root)  # an include outside: refused here
        check_fingerprint(run_id, row.get("fingerprint"), playbook,
                          ResumeState.load(db, run_id), remap=remap)
        claim = claim_run(db, run_id, new_owner(), stale_after=0.0 if force else stale_after,
                          again=("failed", "interrupted", "errored"))
        if claim.outcome == "busy":
            age = time.time() - (row["heartbeat"] or 0)
            raise InvalidInput(f"run {run_id} looks alive (its last sign of life was "
                               f"{age:.0f} s ago)", hint="wait, or pass --force if its "
                               "process is gone")
        if claim.outcome != "claimed":
            why = {"lost": "another process took it up at the same moment",
                   "done": f"it is {row['status']}", "waiting": "it waits for its schedule",
                   "missing": "it is no longer in the store"}.get(claim.outcome, claim.outcome)
            raise InvalidInput(f"run {run_id} cannot be resumed: {why}",
                               hint=f"runner show {run_id} says where it stands")
        given = {k: v for k, v in (row["inputs"] or {}).items() if v != MASK}
        given.update(inputs or {})
        with owned(db, run_id, claim.owner) as fenced:
            try:
                return run(playbook, env=row["environment"], inputs=given, store=fenced,
                           run_id=run_id, resume=claim.resume, remap=remap, **kw)
            except RunnerError as e:  # e.g. a secret input the store kept masked: not
                if not isinstance(e, LostOwnership):  # left running for nobody
                    settle(fenced, run_id, e.message, e.hint)
                raise
    finally:
        if db is not store:
            db.close()


def resume_batch(batch_id: str, *, store: str | None = None,
                 inputs: Mapping[str, Any] | None = None, concurrency: int = 10,
                 force: bool = False, on_row: Any = None) -> list[Any]:
    """Finish a stopped batch (``runner resume --batch``): see :func:`runner.batch.resume_batch`."""
    from runner.batch import resume_batch as finish

    db = Store(store)
    try:
        return finish(batch_id, store=db, inputs=inputs, concurrency=concurrency, force=force,
                      on_row=on_row)
    finally:
        db.close()


def resume_stale(*, store: str | None = None, stale_after: float | None = None,
                 broker: str | None = None, queue: str = "runner", concurrency: int = 4,
                 inputs: Mapping[str, Any] | None = None,
                 on_result: Any = None) -> list[tuple[Any, RunResult | None, str | None]]:
    """Resume here every run nobody is working on (:mod:`runner.orphans` says which), up to
    ``concurrency`` at a time; with ``broker``, queued runs that still have a message in it
    are left to the workers. Returns (orphan, result, error) per run, in the order found;
    ``on_result`` is called with the same as each ends."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from runner.errors import RunnerError
    from runner.orphans import broker_messages, find_orphans
    from runner.ownership import STALE_AFTER

    stale_after = STALE_AFTER if stale_after is None else stale_after
    db = Store(store)
    try:
        messages = broker_messages(broker, queue) if broker else None
        orphans = find_orphans(db, stale_after=stale_after, messages=messages, local=True)

        def one(orphan: Any) -> tuple[Any, RunResult | None, str | None]:
            try:
                got: tuple[Any, RunResult | None, str | None] = (
                    orphan, resume(orphan.run_id, store=db, inputs=inputs,
                                   stale_after=stale_after, quiet=True), None)
            except RunnerError as e:
                got = (orphan, None, e.with_hint())
            except Exception as e:  # one run's bug must not stop the others
                got = (orphan, None, f"internal error: {type(e).__name__}")
            if on_result is not None:
                with said:  # one run's line at a time
                    on_result(*got)
            return got

        said = threading.Lock()
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            return list(pool.map(one, orphans))
    finally:
        db.close()


def history(*, store: str | None = None, **filters: Any) -> list[dict[str, Any]]:
    db = Store(store)
    try:
        return db.find_runs(**filters)
    finally:
        db.close()


def count_runs(*, store: str | None = None, **filters: Any) -> int:
    """How many runs match ``filters`` (those of :func:`history`, without its limit)."""
    db = Store(store)
    try:
        return db.count_runs(**filters)
    finally:
        db.close()


def show(run_id: str, *, store: str | None = None) -> dict[str, Any]:
    from runner.errors import InvalidInput

    db = Store(store)
    try:
        row = db.get_run(run_id)
        if row is None:
            raise InvalidInput(f"no run {run_id} in {db.url}", hint="runner history lists them")
        row["journal"] = [e.__dict__ for e in db.entries(run_id)]
        return row
    finally:
        db.close()


def plan(path: str | Path, *, env: str | None = "sandbox",
         inputs: Mapping[str, Any] | None = None, stream: IO[str] | None = None,
         root: str | Path | None = None) -> None:
    from runner.plan import print_plan

    playbook = load_playbook(path, root=root)
    environment = load_environment(env, search=Path(path))
    print_plan(playbook, environment, inputs or {}, stream or sys.stdout)


def connectors() -> list[Any]:
    from runner.connectors import registry

    return registry.all_specs()

"""What a worker does with a message: claim a recorded run, run or resume it to the end, and
say so when it failed; here or on Celery workers, so that it finishes exactly once.

The run store is the source of truth; a message (or an in-process hand-over) only says "run
this run id". A run's row goes::

    pending --> queued --> running --> passed | failed | interrupted
                  (skipped: a schedule's fire time dropped by overlap: skip)
                               running <--> parked (a long wait on a worker: no slot held)

Whoever executes a run first *claims* it with a compare-and-set on its row: ``queued`` becomes
``running`` with the claimant as ``owner``; a ``running`` row is taken over only when its
heartbeat is older than ``stale_after`` (its worker died), and then the run is *resumed* from
its journal (:class:`runner.journal.ResumeState`), so steps that finished are not run again and
a call that is not safe to repeat is never sent twice. Every later write of the attempt is
fenced by the owner (:class:`~runner.ownership.FencedStore`): a worker that was taken for dead
and comes back fails its next journal write, which comes before any request that is not safe
to repeat, so two attempts never both send it. Claiming, fencing and rebuilding the state are
:func:`runner.resume.resume_run`'s, as for ``runner resume``; a job adds the worker's logging,
its outcomes, its schedule's ``notify:`` targets (sent where every run's end is,
:func:`runner.launch.launch`; here only for a run that ended before the engine started it: a
playbook or environment file the worker cannot load, an edit refused) and the deprecated
failure webhook (``on_failure: {webhook:}``: runner's own JSON, kept for receivers that parse
it).

:class:`LocalDispatcher` runs jobs in this process (``runner scheduler`` without a broker);
the Celery app and its workers are :mod:`runner.distributed`, submitting :mod:`runner.submit`.
Nothing here imports Celery.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from runner.errors import RunnerError, StoreError
from runner.launch import launch
from runner.notify_targets import Target, from_message
from runner.ownership import STALE_AFTER, Claim, LostOwnership
from runner.results import PARKED, Listener, RunResult
from runner.resume import resume_run
from runner.secrets import Redactor
from runner.store import Store

log = logging.getLogger("runner.distributed")  # the name operators' logging settings know


@dataclass
class RunJob:
    """What a worker needs to execute a recorded run (the message body on Celery).

    ``inputs`` are as given (secret inputs too: the store only keeps them masked); the
    environment's secrets are never in it: the worker reads them from its own environment.
    """

    run_id: str
    file: str  # the playbook's absolute path: the same checkout on every worker
    environment: str  # sandbox, or an environment file's absolute path
    inputs: dict[str, Any]
    schedule: str | None = None
    fire_time: str | None = None
    webhook: str | dict[str, str] | None = None  # deprecated: notify replaces it
    notify: list[dict[str, Any]] | None = None  # the schedule's targets (Target.to_message)

    def to_message(self) -> dict[str, Any]:
        return asdict(self)


# -- executing ---------------------------------------------------------------------------------
def execute_job(store: Store, job: RunJob, *, stale_after: float = STALE_AFTER,
                heartbeat_every: float | None = None, park_after: float | None = None) -> str:
    """Claim ``job``'s run and run (or resume) it to the end (:func:`runner.resume.resume_run`).

    Returns the run's final status, or why it was not run: ``done`` (finished already),
    ``busy`` (another attempt is alive: try again later), ``lost`` (someone else claimed it,
    or took it over mid-way), ``missing`` (no such run in this store), ``waiting`` (pending),
    ``parked``: a wait of ``park_after`` seconds or more gave the slot back; the run is
    ``parked`` in the store until its wake time (its row's ``heartbeat``), for the caller to
    have it resumed then (:func:`runner.distributed.hand_back`).
    """
    def claimed(claim: Claim) -> None:
        resumed = bool(claim.resume and (claim.resume.finished or claim.resume.unsafe_outcome))
        log.info("run %s %s: %s", job.run_id, "resumed" if resumed else "started", job.file)

    targets = from_message(job.notify)
    began = _Began()  # launch tells the targets of a run the engine started; else this job does

    def start(*args: Any, **kw: Any) -> RunResult:
        kw["listeners"] = [*(kw.get("listeners") or []), began]
        return launch(*args, notify=targets, warn=_warn(job), **kw)

    status = "failed"
    try:
        attempt = resume_run(store, job.run_id, playbook=job.file, env=job.environment,
                             inputs=job.inputs, stale_after=stale_after, worker=True,
                             beat_every=heartbeat_every or max(0.2, stale_after / 6),
                             crash_hint="this is a bug in runner; the worker's log has the "
                             "details", on_claim=claimed, start=start, park_after=park_after)
        if attempt.result is None:
            return attempt.outcome
        status = attempt.result.status
        if status == PARKED:  # not ended: no notification, no failure webhook
            log.info("run %s parked: its slot is free until it wakes", job.run_id)
            return PARKED
        if attempt.result.unrecorded:  # the store went away mid-run: resume it once it is back
            log.warning("run %s: the run store failed (%s); it is resumed later",
                        job.run_id, attempt.result.error)
            return "busy"
    except LostOwnership as e:
        log.warning("run %s: %s; stopping here", job.run_id, e.message)
        return "lost"
    except RunnerError as e:  # invalid playbook, environment or inputs, a missing secret,
        # a checkout whose playbook differs from the one the run was recorded with: recorded
        log.warning("run %s not run: %s", job.run_id, e.message)
    except StoreError as e:  # the store is away, or went away mid-run: the run waits
        log.warning("run %s: the run store failed (%s); trying again later", job.run_id,
                    e.kind)
        return "busy"
    except Exception:  # recorded failed by resume_run
        log.error("run %s: internal error\n%s", job.run_id, traceback.format_exc())
    log.info("run %s %s", job.run_id, status)
    if targets and not began.started:
        _tell_unstarted(store, job, targets)
    if status != "passed" and job.webhook:
        notify_failure(store, job)
    return status


def not_handed_over(store: Store, job: RunJob) -> None:
    """A run the scheduler could not hand over (the broker is down; recorded failed): its
    schedule's targets are told, and its deprecated webhook called."""
    targets = from_message(job.notify)
    if targets:
        _tell_unstarted(store, job, targets)
    if job.webhook:
        notify_failure(store, job)


def notify_message(targets: tuple[Target, ...]) -> list[dict[str, Any]] | None:
    """A schedule's targets as a job's message carries them."""
    return [t.to_message() for t in targets] or None


class _Began(Listener):
    started = False

    def run_started(self, run: RunResult) -> None:
        self.started = True


def _warn(job: RunJob) -> Callable[[str], None]:
    return lambda line: log.warning("run %s: %s", job.run_id, line)


def _tell_unstarted(store: Store, job: RunJob, targets: tuple[Target, ...]) -> None:
    """The schedule's targets, for a run that ended before it started (recorded failed by
    :func:`runner.resume.resume_run`, with why): what the store says of it."""
    from runner.notify import notify_run, resolve

    row = store.get_run(job.run_id) or {}
    if row.get("status") in (None, "queued", "running", "pending"):
        return  # not ended: it waits, or is another attempt's
    run = RunResult(job.run_id, row.get("playbook") or "", job.file, job.environment, {},
                    status=row["status"], error=row.get("error"), hint=row.get("hint"),
                    failed_step=row.get("failed_step"))
    redactor = Redactor()
    notify_run(resolve([(targets, os.environ.get)], redactor), run, None, redactor,
               warn=_warn(job))


def webhook_url(webhook: str | Mapping[str, str] | None) -> str | None:
    if isinstance(webhook, Mapping):
        return os.environ.get(webhook.get("secret", ""))
    return webhook


def notify_failure(store: Store, job: RunJob, *, timeout: float = 10.0) -> bool:
    """POST what the store says about the run (secrets redacted there) to the job's webhook."""
    import requests

    url = webhook_url(job.webhook)
    if not url:
        log.warning("run %s: the failure webhook's secret %s is not set", job.run_id,
                    (job.webhook or {}).get("secret") if isinstance(job.webhook, dict) else "")
        return False
    row = store.get_run(job.run_id) or {}
    payload = {
        "run_id": job.run_id, "schedule": job.schedule, "fire_time": job.fire_time,
        "playbook": row.get("playbook"), "status": row.get("status"),
        "error": row.get("error"), "hint": row.get("hint"),
        "failed_step": row.get("failed_step"), "started": row.get("started"),
        "finished": row.get("finished"),
    }
    for attempt in range(2):
        try:
            answer = requests.post(url, json=payload, timeout=timeout)
            if answer.status_code < 300:
                return True
            problem = f"HTTP {answer.status_code}"
        except requests.RequestException as e:
            problem = type(e).__name__
        log.warning("run %s: the failure webhook failed (%s, attempt %d)", job.run_id,
                    problem, attempt + 1)
    return False


class LocalDispatcher:
    """Runs jobs in this process, ``concurrency`` at a time (``runner scheduler`` without a
    broker). Threads are daemons: runs left unfinished at exit are resumed by the next start."""

    def __init__(self, store: Store, *, concurrency: int = 4, stale_after: float = STALE_AFTER,
                 heartbeat_every: float | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.stale_after = stale_after
        self.heartbeat_every = heartbeat_every
        self.log = log or (lambda _m: None)
        self._slots = threading.Semaphore(concurrency)
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def __call__(self, job: RunJob) -> None:
        t = threading.Thread(target=self._run, args=(job,), daemon=True, name=f"run-{job.run_id}")
        with self._lock:
            self._threads.add(t)
        t.start()

    def _run(self, job: RunJob) -> None:
        try:
            with self._slots:
                try:
                    outcome = execute_job(self.store, job, stale_after=self.stale_after,
                                          heartbeat_every=self.heartbeat_every)
                except Exception:
                    log.error("run %s: internal error\n%s", job.run_id, traceback.format_exc())
                    outcome = "failed"
            if outcome == "busy":  # alive elsewhere, or dead too recently: look again later
                later = threading.Timer(self.stale_after, self, args=(job,))
                later.daemon = True
                later.start()
            elif outcome not in ("done", "lost"):
                self.log(f"{job.schedule or '-'}: run {job.run_id} {outcome}")
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def active(self) -> int:
        with self._lock:
            return len(self._threads)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every run handed over has ended; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                threads = list(self._threads)
            if not threads:
                return True
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            threads[0].join(left)

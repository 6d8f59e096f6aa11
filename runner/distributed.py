"""Running a recorded run, here or on Celery workers, so that it finishes exactly once.

The run store is the source of truth; a message (or an in-process hand-over) only says "run
this run id". A run's row goes::

    pending --> queued --> running --> passed | failed | interrupted
                  (skipped: a schedule's fire time dropped by overlap: skip)

Whoever executes a run first *claims* it with a compare-and-set on its row: ``queued`` becomes
``running`` with the claimant as ``owner``; a ``running`` row is taken over only when its
heartbeat is older than ``stale_after`` (its worker died), and then the run is *resumed* from
its journal (:class:`runner.journal.ResumeState`), so steps that finished are not run again and
a call that is not safe to repeat is never sent twice. Every later write of the attempt is
fenced by the owner (:class:`FencedStore`): a worker that was taken for dead and comes back
fails its next journal write, which comes before any request that is not safe to repeat, so
two attempts never both send it.

On Celery the task is acknowledged late and rejected when its worker process is lost
(``acks_late``, ``task_reject_on_worker_lost``): a killed pool process puts the message back at
once, and a whole worker that vanished gives its unacknowledged messages back after the Redis
``visibility_timeout``. The redelivered task finds the run ``running`` with a stale heartbeat
and resumes it; a task that finds it alive (heartbeat fresh) retries later; one that finds it
finished does nothing. Results and history live in the store, not in a Celery result backend.

Celery is imported only by the functions that need it, so the local scheduler runs without it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from runner.errors import InvalidInput, RunnerError
from runner.ownership import (
    FINAL,
    STALE_AFTER,
    FencedStore,
    LostOwnership,
    claim_run,
    new_owner,
    owned,
)
from runner.store import Store, runs

TASK_NAME = "runner.execute"
DEFAULT_QUEUE = "runner"
VISIBILITY_TIMEOUT = 3600.0  # Redis gives a vanished worker's messages back after this

log = logging.getLogger("runner.distributed")


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
    webhook: str | dict[str, str] | None = None

    def to_message(self) -> dict[str, Any]:
        return asdict(self)


# -- executing ---------------------------------------------------------------------------------
def execute_job(store: Store, job: RunJob, *, stale_after: float = STALE_AFTER,
                heartbeat_every: float | None = None) -> str:
    """Claim ``job``'s run and run (or resume) it to the end.

    Returns the run's final status, or why it was not run: ``done`` (finished already),
    ``busy`` (another attempt is alive: try again later), ``lost`` (someone else claimed it,
    or took it over mid-way), ``missing`` (no such run in this store), ``waiting`` (pending).
    """
    from runner import api

    try:
        claim = claim_run(store, job.run_id, new_owner(), stale_after=stale_after)
    except SQLAlchemyError as e:  # the database is away: the run waits for it
        log.warning("run %s: the run store failed (%s); trying again later", job.run_id,
                    type(e).__name__)
        return "busy"
    if claim.outcome != "claimed":
        return claim.outcome
    resumed = bool(claim.resume and (claim.resume.finished or claim.resume.unsafe_outcome))
    log.info("run %s %s: %s", job.run_id, "resumed" if resumed else "started", job.file)
    status = "failed"
    with owned(store, job.run_id, claim.owner,
               beat_every=heartbeat_every or max(0.2, stale_after / 6)) as fenced:
        try:
            result = api.run(job.file, env=job.environment, inputs=job.inputs, store=fenced,
                             run_id=job.run_id, resume=claim.resume, quiet=True)
            status = result.status
            if result.unrecorded:  # the store went away mid-run: resume it once it is back
                log.warning("run %s: the run store failed (%s); it is resumed later",
                            job.run_id, result.error)
                return "busy"
        except LostOwnership as e:
            log.warning("run %s: %s; stopping here", job.run_id, e.message)
            return "lost"
        except RunnerError as e:  # invalid playbook, environment or inputs, a missing secret
            _record_failure(fenced, job.run_id, e.message, e.hint)
        except SQLAlchemyError as e:  # the store went away mid-run: resume it once it is back
            log.warning("run %s: the run store failed (%s); it is resumed later", job.run_id,
                        type(e).__name__)
            return "busy"
        except Exception as e:
            log.error("run %s: internal error\n%s", job.run_id, traceback.format_exc())
            _record_failure(fenced, job.run_id, f"internal error: {type(e).__name__}",
                            "this is a bug in runner; the worker's log has the details")
    log.info("run %s %s", job.run_id, status)
    if status != "passed" and job.webhook:
        notify_failure(store, job)
    return status


def _record_failure(store: FencedStore, run_id: str, error: str, hint: str | None) -> None:
    try:
        row = store.get_run(run_id)
        if row is not None and row["status"] == "running":  # the engine did not record it
            store.update_run(run_id, status="failed", finished=time.time(), error=error,
                             hint=hint)
    except (LostOwnership, SQLAlchemyError) as e:
        log.warning("run %s: could not record its failure: %s", run_id, e)


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


# -- Celery ------------------------------------------------------------------------------------
def safe_url(url: str) -> str:
    """A URL with its password masked, for messages."""
    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def make_app(broker: str, *, store: str | None = None, queue: str = DEFAULT_QUEUE,
             visibility_timeout: float = VISIBILITY_TIMEOUT, stale_after: float = STALE_AFTER,
             heartbeat_every: float | None = None) -> Any:
    """A Celery app for ``broker`` with runner's one task. Workers pass their ``store``."""
    from celery import Celery

    app = Celery("runner", broker=broker, set_as_current=False)
    app.conf.update(
        task_acks_late=True,  # a message is gone only once its run has ended
        task_reject_on_worker_lost=True,  # a killed pool process puts it back at once
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,  # a worker holds no more messages than it runs
        task_ignore_result=True,  # results and history are in the run store
        task_default_queue=queue,
        task_serializer="json", accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=True,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            # look for a vanished worker's messages often enough to matter
            "unacked_restore_interval": max(1.0, min(60.0, visibility_timeout / 4)),
            "unacked_restore_throttle": 1,
        },
        runner_store=store, runner_stale_after=stale_after,
        runner_heartbeat_every=heartbeat_every,
    )
    app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True,
             max_retries=None)(_task)
    return app


_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def _worker_store(url: str | None) -> Store:
    key = f"{os.getpid()}:{url}"
    with _stores_lock:
        if key not in _stores:
            _stores[key] = Store(url)
        return _stores[key]


def _task(self: Any, **message: Any) -> str:
    conf = self.app.conf
    store = _worker_store(conf.get("runner_store"))
    job = RunJob(**message)
    outcome = execute_job(store, job, stale_after=conf.get("runner_stale_after", STALE_AFTER),
                          heartbeat_every=conf.get("runner_heartbeat_every"))
    if outcome == "busy":  # alive elsewhere, or dead too recently to tell: look again later
        raise self.retry(countdown=conf.get("runner_stale_after", STALE_AFTER))
    if outcome == "missing":
        log.error("run %s is not in this worker's store %s: the worker and whoever submitted "
                  "it must use the same --store", job.run_id, safe_url(store.url))
    return outcome


def start_worker(broker: str, store: str | None = None, *, queue: str = DEFAULT_QUEUE,
                 concurrency: int = 4, pool: str = "threads", loglevel: str = "INFO",
                 hostname: str | None = None, visibility_timeout: float = VISIBILITY_TIMEOUT,
                 stale_after: float = STALE_AFTER, heartbeat_every: float | None = None) -> int:
    """Run a Celery worker that executes runner's runs until it is stopped; its exit code."""
    from runner.connectors import registry
    from runner.store import to_url

    url = to_url(store)
    Store(url).close()  # a bad URL or an unreachable database fails now, not at the first run
    registry.all_specs()  # plugins load (and are checked) before the first message
    app = make_app(broker, store=url, queue=queue, visibility_timeout=visibility_timeout,
                   stale_after=stale_after, heartbeat_every=heartbeat_every)
    worker = app.Worker(
        hostname=hostname or f"runner-{os.getpid()}@{socket.gethostname()}",
        pool_cls=pool, concurrency=concurrency, loglevel=loglevel, queues=[queue],
        without_mingle=True, without_gossip=True, without_heartbeat=True, quiet=True,
        optimization="fair")
    worker.start()
    return int(worker.exitcode or 0)


class CeleryDispatcher:
    """Hands jobs to workers through the broker (``runner scheduler --broker``)."""

    def __init__(self, broker: str, *, queue: str = DEFAULT_QUEUE) -> None:
        self.app = make_app(broker, queue=queue)
        self.queue = queue

    def __call__(self, job: RunJob) -> None:
        self.app.send_task(TASK_NAME, kwargs=job.to_message(), queue=self.queue, retry=True,
                           retry_policy={"max_retries": 3, "interval_start": 0.2,
                                         "interval_step": 0.5, "interval_max": 2})

    def close(self) -> None:
        self.app.close()


# -- submitting --------------------------------------------------------------------------------
class Submitter:
    """Records runs as ``queued`` in the store and hands them to workers; reusable."""

    def __init__(self, broker: str, store: Store | str | None = None, *,
                 queue: str = DEFAULT_QUEUE) -> None:
        self.store = store if isinstance(store, Store) else Store(store)
        self._own_store = not isinstance(store, Store)
        self.dispatch = CeleryDispatcher(broker, queue=queue)
        self.broker = broker
        self._prepared: dict[tuple[str, str | None], tuple[Any, str]] = {}

    def __enter__(self) -> Submitter:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.dispatch.close()
        if self._own_store:
            self.store.close()

    def _prepare(self, path: str | Path, env: str | None) -> tuple[Any, str]:
        from runner.environment import load_environment
        from runner.playbook import load_playbook

        key = (str(Path(path).resolve()), env)
        if key not in self._prepared:
            playbook = load_playbook(path)
            environment = load_environment(env, search=Path(path))
            where = (str(Path(environment.source).resolve()) if environment.source
                     else environment.name)
            self._prepared[key] = (playbook, where)
        return self._prepared[key]

    def submit(self, path: str | Path, env: str | None = "sandbox",
               inputs: Mapping[str, Any] | None = None, *, dedup_key: str | None = None,
               webhook: str | dict[str, str] | None = None) -> str:
        """Check the playbook and inputs, record the run as queued, publish it; its run id."""
        from runner.engine import coerce_inputs, masked_inputs, new_run_id

        playbook, where = self._prepare(path, env)
        given = dict(inputs or {})
        stored = masked_inputs(playbook, coerce_inputs(playbook, given))
        run_id = new_run_id()
        file = str(Path(playbook.file).resolve())
        if not self.store.create_run(run_id, playbook.name, file, where, stored,
                                     dedup_key=dedup_key, status="queued"):
            raise InvalidInput(f"a run with dedup key {dedup_key} is already recorded",
                               hint="see runner history")
        try:
            self.dispatch(RunJob(run_id, file, where, given, webhook=webhook))
        except Exception as e:
            error = f"could not hand the run to the broker {safe_url(self.broker)}: {e}"
            self.store.update_run(run_id, status="failed", finished=time.time(), error=error)
            raise InvalidInput(error, hint="is the broker running? check --broker") from None
        return run_id

    def wait(self, run_ids: Iterable[str], timeout: float | None = None,
             every: float = 0.2) -> dict[str, str]:
        """Wait until the runs have ended (or ``timeout``); their statuses by run id."""
        ids = list(run_ids)
        deadline = None if timeout is None else time.monotonic() + timeout
        statuses: dict[str, str] = {}
        while True:
            with self.store.engine.connect() as c:
                for i in range(0, len(ids), 500):
                    q = select(runs.c.run_id, runs.c.status).where(
                        runs.c.run_id.in_(ids[i:i + 500]))
                    statuses.update({r[0]: r[1] for r in c.execute(q)})
            if all(statuses.get(r) in FINAL for r in ids):
                return statuses
            if deadline is not None and time.monotonic() >= deadline:
                return statuses
            time.sleep(every)

"""Running recorded runs on Celery workers: the Celery app and its one task, starting a
worker, and handing runs to the broker. What a worker does with a message (claim, run or
resume, report a failure) is :mod:`runner.jobs`; recording runs and submitting them through
the broker is :mod:`runner.submit`.

On Celery the task is acknowledged late and rejected when its worker process is lost
(``acks_late``, ``task_reject_on_worker_lost``): a killed pool process puts the message back at
once, and a whole worker that vanished gives its unacknowledged messages back after the Redis
``visibility_timeout``. The redelivered task finds the run ``running`` with a stale heartbeat
and resumes it; a task that finds it alive (heartbeat fresh) retries later; one that finds it
finished does nothing. Results and history live in the store, not in a Celery result backend.

A run that waits ``park_after`` seconds or more (``runner worker --park-after``, 30 s) gives
its slot back: the engine journals the wait and records the run ``parked``, owned by nobody,
its wake time in ``heartbeat``; the task then publishes the run's message again with that
``countdown`` (:func:`hand_back`) and ends, and whichever worker gets it then claims and resumes
the run from its journal (no finished step is run again, no unsafe call sent twice). Should
that message be lost with a worker, the sweep (:mod:`runner.orphans`) hands over a parked run
``stale_after`` past its wake time; a callback for it wakes it at once
(:mod:`runner.callback_server`).

Celery is imported only by the functions that need it, so the local scheduler runs without it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from runner.extras import need
from runner.jobs import RunJob, execute_job
from runner.orphans import Orphan, Sweeper
from runner.ownership import STALE_AFTER
from runner.store import Store

TASK_NAME = "runner.execute"
DEFAULT_QUEUE = "runner"
VISIBILITY_TIMEOUT = 3600.0  # Redis gives a vanished worker's messages back after this
PARK_AFTER = 30.0  # a run's wait this long or longer gives its worker slot back

log = logging.getLogger("runner.distributed")


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
             heartbeat_every: float | None = None, park_after: float | None = PARK_AFTER) -> Any:
    """A Celery app for ``broker`` with runner's one task. Workers pass their ``store``."""
    need("scale", "a Celery broker (runner worker, --broker)")
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
        runner_heartbeat_every=heartbeat_every, runner_park_after=park_after,
        runner_visibility_timeout=visibility_timeout,
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
                          heartbeat_every=conf.get("runner_heartbeat_every"),
                          park_after=conf.get("runner_park_after"))
    if outcome == "parked":
        hand_back(self.app, conf.get("task_default_queue") or DEFAULT_QUEUE, store, job,
                  conf.get("runner_visibility_timeout") or VISIBILITY_TIMEOUT)
    if outcome == "busy":  # alive elsewhere, or dead too recently to tell: look again later
        raise self.retry(countdown=conf.get("runner_stale_after", STALE_AFTER))
    if outcome == "missing":
        log.error("run %s is not in this worker's store %s: the worker and whoever submitted "
                  "it must use the same --store", job.run_id, safe_url(store.url))
    return outcome


def start_worker(broker: str, store: str | None = None, *, queue: str = DEFAULT_QUEUE,
                 concurrency: int = 4, pool: str = "threads", loglevel: str = "INFO",
                 hostname: str | None = None, visibility_timeout: float = VISIBILITY_TIMEOUT,
                 stale_after: float = STALE_AFTER, heartbeat_every: float | None = None,
                 park_after: float | None = PARK_AFTER) -> int:
    """Run a Celery worker that executes runner's runs until it is stopped; its exit code."""
    from runner.connectors import gates, registry
    from runner.store_url import to_url

    url = to_url(store)
    Store(url).close()  # a bad URL or an unreachable database fails now, not at the first run
    registry.all_specs()  # plugins load (and are checked) before the first message
    gates.share_through(broker)  # connector limits hold across all workers of this broker
    app = make_app(broker, store=url, queue=queue, visibility_timeout=visibility_timeout,
                   stale_after=stale_after, heartbeat_every=heartbeat_every,
                   park_after=park_after)
    worker = app.Worker(
        hostname=hostname or f"runner-{os.getpid()}@{socket.gethostname()}",
        pool_cls=pool, concurrency=concurrency, loglevel=loglevel, queues=[queue],
        without_mingle=True, without_gossip=True, without_heartbeat=True, quiet=True,
        optimization="fair")
    # runs whose message is lost or whose worker is gone are handed over again
    sweeper = Sweeper(lambda orphan: hand_over(app, queue, orphan), broker, url, queue,
                      stale_after=stale_after)
    sweeper.start()
    try:
        worker.start()
    finally:
        sweeper.done.set()
    return int(worker.exitcode or 0)


def publish(app: Any, queue: str, job: RunJob, countdown: float | None = None) -> None:
    """Send ``job`` to the workers of ``queue`` (to be run ``countdown`` seconds from now).
    The task id is the run id: that is how a sweep (:mod:`runner.orphans`) tells which runs
    still have a message in the broker."""
    app.send_task(TASK_NAME, kwargs=job.to_message(), queue=queue, task_id=job.run_id,
                  countdown=countdown,
                  retry=True, retry_policy={"max_retries": 3, "interval_start": 0.2,
                                            "interval_step": 0.5, "interval_max": 2})


def hand_back(app: Any, queue: str, store: Store, job: RunJob,
              visibility_timeout: float = VISIBILITY_TIMEOUT) -> None:
    """A parked run's message, again, due at its wake time (the row's ``heartbeat``). It is
    the same message (secret inputs too), so the run resumes as it was handed over. At most
    half the visibility timeout ahead: Redis gives an ETA message a worker holds longer than
    that to another worker too; a run woken before its time parks again at once."""
    row = store.get_run(job.run_id) or {}
    if row.get("status") != "parked":  # woken already (a callback), or taken up meanwhile
        return
    from runner.callback_inbox import answered

    wait = max(0.0, float(row.get("heartbeat") or 0) - time.time())
    if answered(store, job.run_id):  # its callback came as it parked: wake it now
        log.info("run %s: what it waits for came as it parked; woken now", job.run_id)
        wait = 0.0
    try:
        publish(app, queue, job, countdown=min(wait, visibility_timeout / 2))
    except Exception as e:  # the broker is away: the sweep hands the run over once overdue
        log.warning("run %s: could not hand it back to the broker (%s); the sweep will, "
                    "once it is due", job.run_id, type(e).__name__)


def hand_over(app: Any, queue: str, orphan: Orphan) -> None:
    """Publish a run nobody works on again, rebuilt from its row: its secret inputs are
    masked there, so a run that needs one fails with a message asking for it (``runner
    resume RUN_ID -i NAME=...``); a scheduled run's failure webhook is not called."""
    from runner.secrets import MASK

    schedule, _, fire_time = (orphan.dedup_key or "").partition("@")
    inputs = {k: v for k, v in orphan.inputs.items() if v != MASK}
    publish(app, queue, RunJob(orphan.run_id, orphan.file, orphan.environment, inputs,
                               schedule or None, fire_time or None))


class CeleryDispatcher:
    """Hands jobs to workers through the broker (``runner scheduler --broker``)."""

    def __init__(self, broker: str, *, queue: str = DEFAULT_QUEUE) -> None:
        self.app = make_app(broker, queue=queue)
        self.queue = queue

    def __call__(self, job: RunJob) -> None:
        publish(self.app, self.queue, job)

    def close(self) -> None:
        self.app.close()

"""``runner.api.worker``: a Celery worker that executes runs handed over through a broker."""

from __future__ import annotations

from runner import tracing
from runner.callback_listener import configure
from runner.distributed import start_worker


def worker(broker: str, store: str | None = None, *, queue: str = "runner",
           concurrency: int = 4, pool: str = "threads", loglevel: str = "INFO",
           hostname: str | None = None, visibility_timeout: float = 3600.0,
           stale_after: float = 30.0, trace: bool | str | None = None,
           park_after: float | None = 30.0) -> int:
    """Run a worker until it is stopped (:func:`runner.distributed.start_worker`); its exit
    code. ``trace``: as :func:`runner.api.run`'s, for every run the worker executes.
    ``park_after``: a run's wait this long or longer gives its slot back (None: never)."""
    configure(listen=False)  # `runner callbacks` receives the callbacks of the workers' runs
    with tracing.session(trace):
        return start_worker(broker, store, queue=queue, concurrency=concurrency, pool=pool,
                            loglevel=loglevel, hostname=hostname,
                            visibility_timeout=visibility_timeout, stale_after=stale_after,
                            park_after=park_after)

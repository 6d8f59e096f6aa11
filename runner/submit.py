"""Submitting runs to workers (``runner run --broker``): each run is checked and recorded as
``queued`` in the store first, then handed to the broker; a run the broker refused is recorded
failed, with why. :class:`Submitter` can then wait until the runs it handed over have ended.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from runner.distributed import DEFAULT_QUEUE, CeleryDispatcher, safe_url
from runner.errors import InvalidInput
from runner.jobs import RunJob
from runner.ownership import FINAL
from runner.store import Store
from runner.store_db import StoreConflict, in_list


class Submitter:
    """Records runs as ``queued`` in the store and hands them to workers; reusable."""

    def __init__(self, broker: str, store: Store | str | None = None, *,
                 queue: str = DEFAULT_QUEUE) -> None:
        self.store = store if isinstance(store, Store) else Store(store)
        self._own_store = not isinstance(store, Store)
        self.dispatch = CeleryDispatcher(broker, queue=queue)
        self.broker = broker
        self._prepared: dict[tuple[str, str | None], tuple[Any, str, dict[str, Any]]] = {}

    def __enter__(self) -> Submitter:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.dispatch.close()
        if self._own_store:
            self.store.close()

    def _prepare(self, path: str | Path, env: str | None) -> tuple[Any, str, dict[str, Any]]:
        from runner.environment import load_environment
        from runner.fingerprint import fingerprint
        from runner.playbook import load_playbook

        key = (str(Path(path).resolve()), env)
        if key not in self._prepared:
            playbook = load_playbook(path)
            environment = load_environment(env, search=Path(path))
            where = (str(Path(environment.source).resolve()) if environment.source
                     else environment.name)
            self._prepared[key] = (playbook, where, fingerprint(playbook))
        return self._prepared[key]

    def submit(self, path: str | Path, env: str | None = "sandbox",
               inputs: Mapping[str, Any] | None = None, *, dedup_key: str | None = None,
               webhook: str | dict[str, str] | None = None) -> str:
        """Check the playbook and inputs, record the run as queued, publish it; its run id."""
        from runner.inputs import coerce_inputs, masked_inputs
        from runner.run_ids import new_run_id

        playbook, where, made = self._prepare(path, env)  # made: what workers must run
        given = dict(inputs or {})
        stored = masked_inputs(playbook, coerce_inputs(playbook, given))
        file = str(Path(playbook.file).resolve())
        for _ in range(8):  # an id another process's run holds is not this run (run_ids.py)
            run_id = new_run_id()
            try:
                created = self.store.create_run(run_id, playbook.name, file, where, stored,
                                                dedup_key=dedup_key, status="queued",
                                                fingerprint=made)
                break
            except StoreConflict:
                continue
        else:
            raise StoreConflict("no free run id after 8 tries")
        if not created:
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
            with self.store.db.connect() as c:
                for i in range(0, len(ids), 500):
                    params: dict[str, Any] = {}
                    some = in_list("id", ids[i:i + 500], params)
                    statuses.update({r["run_id"]: r["status"] for r in c.execute(
                        f"SELECT run_id, status FROM runs WHERE run_id IN {some}", params)})
            if all(statuses.get(r) in FINAL for r in ids):
                return statuses
            if deadline is not None and time.monotonic() >= deadline:
                return statuses
            time.sleep(every)

"""Recording a batch's rows before any of them runs: each row whose inputs are valid becomes a
``queued`` run of the batch, with a key made of the playbook, the environment and the row's
inputs (secret inputs masked), so that a batch killed mid-way can be finished and a file run
again does not run a row that ran already (:mod:`runner.batch`)."""

from __future__ import annotations

import hashlib
import json
import secrets as _secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.batch_summary import AlreadyRan
from runner.errors import RunnerError
from runner.fingerprint import fingerprint
from runner.inputs import coerce_inputs, masked_inputs
from runner.model import Playbook
from runner.run_ids import new_run_id


def new_batch_id() -> str:
    return "b" + time.strftime("%Y%m%d-%H%M%S") + "-" + _secrets.token_hex(3)


def row_key(file: str, environment: str, inputs: Mapping[str, Any], occurrence: int) -> str:
    """The key of one row's run: the same playbook, environment and inputs (secret inputs
    masked: the store never holds a hash of a secret) make the same key; ``occurrence`` tells
    apart identical rows of one file."""
    text = json.dumps([file, environment, inputs, occurrence], sort_keys=True,
                      ensure_ascii=False, default=str)
    return "row:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def record_rows(store: Any, playbook: Playbook, environment: Any, table: list[dict[str, Any]],
                batch_id: str, again: bool,
                owner: str = "") -> tuple[dict[int, str], list[AlreadyRan]]:
    """Record each row whose inputs are valid as a queued run of the batch, before any runs;
    the run id of each row recorded, and the rows an earlier batch ran already. ``owner``:
    the batch's, on its queued rows too, so its heartbeat keeps them alive-looking while they
    wait their turn (:mod:`runner.heartbeats`); whoever runs a row claims it anyway."""
    file = str(Path(playbook.file).resolve())
    where = str(Path(environment.source).resolve()) if environment.source else environment.name
    made = fingerprint(playbook)
    keyed = not again and not environment.sandbox
    seen: dict[str, int] = {}
    records: list[dict[str, Any]] = []
    indexes: list[int] = []
    for index, inputs in enumerate(table):
        try:
            shown = masked_inputs(playbook, coerce_inputs(playbook, inputs))
        except RunnerError:
            continue  # it fails when its turn comes, with the reason
        key = None
        if keyed:
            plain = json.dumps(shown, sort_keys=True, default=str)
            seen[plain] = seen.get(plain, -1) + 1
            key = row_key(file, where, shown, seen[plain])
        records.append({"run_id": new_run_id(), "playbook": playbook.name, "file": file,
                        "environment": where, "inputs": shown, "dedup_key": key,
                        "fingerprint": made, "batch_id": batch_id, "batch_row": index,
                        "owner": owner})
        indexes.append(index)
    taken = store.create_runs(records)
    earlier = store.dedup_keys_taken(sorted(taken)) if taken else {}
    run_ids: dict[int, str] = {}
    already: list[AlreadyRan] = []
    for index, record in zip(indexes, records, strict=True):
        if record["dedup_key"] in taken:
            old = earlier.get(record["dedup_key"]) or {}
            already.append(AlreadyRan(index, str(old.get("run_id", "")),
                                      str(old.get("status", "unknown")), old.get("batch_id")))
        else:
            run_ids[index] = record["run_id"]
    return run_ids, already

"""Which runs still have a message in the broker: waiting in the queue, or held (delivered,
not yet acknowledged) by a worker. Messages carry the run id as their task id, which is how a
Redis broker is searched (the queue's list and kombu's ``unacked`` hash); another broker cannot
be searched, and then nothing is known (:mod:`runner.orphans` takes every candidate)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from runner.extras import need

SCAN_CHUNK = 1000  # messages read from Redis per round trip
UNACKED = "unacked"  # kombu's hash of the messages workers hold


@dataclass
class Messages:
    """Run ids that have a message in the broker: waiting in the queue, or held by a worker."""

    waiting: set[str]
    held: set[str]


def broker_messages(broker: str, queue: str) -> Messages | None:
    """The run ids of ``queue``'s messages in a Redis broker; None for another broker."""
    if not broker.startswith(("redis://", "rediss://")):
        return None
    need("scale", "looking into a Redis broker (--broker)")
    import redis

    client = redis.Redis.from_url(broker, socket_timeout=10)
    try:
        waiting: set[str] = set()
        for start in range(0, int(client.llen(queue)), SCAN_CHUNK):
            waiting |= _ids(client.lrange(queue, start, start + SCAN_CHUNK - 1))
        held = set()
        for raw in client.hvals(UNACKED):
            try:
                message, _exchange, routing_key = json.loads(raw)
            except (ValueError, TypeError):
                continue
            task_id = _task_id(message)
            if routing_key == queue and task_id:
                held.add(task_id)
        return Messages(waiting, held)
    finally:
        client.close()


def _ids(raws: Iterable[bytes | str]) -> set[str]:
    out = set()
    for raw in raws:
        try:
            task_id = _task_id(json.loads(raw))
        except ValueError:
            continue
        if task_id:
            out.add(task_id)
    return out


def _task_id(message: Any) -> str | None:
    try:
        task_id = message["headers"]["id"]
    except (KeyError, TypeError):
        return None
    return task_id if isinstance(task_id, str) else None

"""Fixtures for the scale-out tests: the machine's real PostgreSQL and Redis.

A server that is installed but not running is started. One that can't be had skips the test
with the reason, except under CI=true, where it fails it. Each test gets a database of its own
(``runner_test_<random>``, dropped after) and each session a Redis database number and a queue
name of its own, so parallel sessions don't see each other's runs or messages.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest
from runner.builtin.automatos.simulator import AutomatosSimulator

from tests.distributed.servers import (
    PG_DSN,
    PG_START,
    REDIS_START,
    Broker,
    database,
    ensure,
    pg_up,
    redis_up,
    unavailable,
)


@pytest.fixture(scope="session")
def postgres() -> str:
    """The server's DSN, once it is known to answer."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -e .)")
    ensure("PostgreSQL", pg_up, PG_START, "pg_ctlcluster")
    return PG_DSN


@pytest.fixture()
def pg_url(postgres: str) -> Iterator[str]:
    """A fresh database for this test, with runner's tables; dropped afterwards."""
    yield from database(postgres)


@pytest.fixture(scope="module")
def pg_module_url(postgres: str) -> Iterator[str]:
    yield from database(postgres)


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    """A Redis database number and a queue name for this session."""
    try:
        import celery  # noqa: F401
        import redis
    except ImportError:
        unavailable("celery[redis] is not installed (pip install -e .)")
    ensure("Redis", redis_up, REDIS_START, "redis-server")
    db = 1 + secrets.randbelow(15)
    queue = f"runner-test-{secrets.token_hex(4)}"
    yield Broker(f"redis://127.0.0.1:6379/{db}", queue)
    client = redis.Redis(host="127.0.0.1", port=6379, db=db)
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    # messages a killed worker held and nobody gave back yet: ours only (the keys are shared)
    for tag, raw in client.hgetall("unacked").items():
        try:
            routing_key = json.loads(raw)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


@pytest.fixture()
def sim() -> Iterator[AutomatosSimulator]:
    with AutomatosSimulator(schedule_seconds=1.0, run_seconds=2.0) as s:
        yield s

"""Servers and worker processes for the scale-out tests (fixtures: conftest.py)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from helpers import ROOT, RUNNER, automatos_env
from runner.builtin.automatos.simulator import AutomatosSimulator

from runner.store import Store

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
REDIS_START = ("redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' "
               "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log")
TINY = Path(__file__).resolve().parent / "get_machine.yaml"


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: a missing server is a failure)", pytrace=False)
    pytest.skip(reason)


def pg_up() -> bool:
    import psycopg

    try:
        psycopg.connect(PG_DSN).close()
        return True
    except psycopg.Error:
        return False


def redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def ensure(name: str, up: Any, start: str, program: str) -> None:
    if up():
        return
    if shutil.which(program) is None:
        unavailable(f"{name} is not running on 127.0.0.1 and {program} is not installed")
    done = subprocess.run(start, shell=True, capture_output=True, text=True, timeout=60)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if up():
            return
        time.sleep(0.2)
    unavailable(f"{name} could not be started with `{start}`: "
                f"{(done.stderr or done.stdout).strip()[:300]}")


def database(dsn: str) -> Iterator[str]:
    import psycopg

    name = f"runner_test_{secrets.token_hex(5)}"
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    Store(url).close()  # create the tables once, before processes race for them
    try:
        yield url
    finally:
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Broker:
    url: str
    queue: str


def env_file(tmp_path: Path, sim: AutomatosSimulator) -> Path:
    return automatos_env(tmp_path, sim)


class Worker:
    """A `runner worker` process (its own process group, so a SIGKILL takes all of it)."""

    def __init__(self, broker: Broker, store: str, log: Path, secrets_env: dict[str, str],
                 *extra: str) -> None:
        self.log_path = log
        self._log: IO[str] = log.open("w")
        self.proc = subprocess.Popen(
            [str(RUNNER), "worker", "--broker", broker.url, "--store", store,
             "--queue", broker.queue, "--loglevel", "INFO", *extra],
            cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, **secrets_env})

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.output():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"the worker exited:\n{self.output()[-3000:]}")
            time.sleep(0.1)
        raise AssertionError(f"the worker did not get ready:\n{self.output()[-3000:]}")

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # warm shutdown: finish what it has
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()


def start_workers(count: int, broker: Broker, store: str, tmp_path: Path,
                  secrets_env: dict[str, str], *extra: str) -> list[Worker]:
    workers = [Worker(broker, store, tmp_path / f"worker{i}.log", secrets_env, *extra)
               for i in range(count)]
    try:
        for w in workers:
            w.wait_ready()
    except BaseException:
        for w in workers:
            w.stop()
        raise
    return workers


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """A redis-server of the test's own on a free port, without persistence (as a Redis that
    loses its messages when it restarts): it may be killed and started again empty. The
    machine's shared Redis on 6379 is never touched."""

    def __init__(self, workdir: Path) -> None:
        if shutil.which("redis-server") is None:
            unavailable("redis-server is not installed")
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_connect_timeout=1).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        """SIGKILL: every message in it is gone."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()

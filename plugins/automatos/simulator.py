"""Automatos (Almaden SmartCenter) distribution API simulator.

Faithful to ``automatos-distribution-api.txt`` and NOTES.md: every answer is the envelope
``{status, data, error}``; 400 answers carry ``status: false``; 403 ``Unauthorized access`` for a
bad or expired token; several machines share a hostname; jobs go scheduled -> running -> Y over
configurable time; jobs expire.

Seeded machines (hostname: department -> machineId):
  NTB1:     DEV -> 123ABC, Comercial -> ABC987   (the doc's example: two machines, one hostname)
  NTB2:     DEV -> 456DEF
  OFFLINE1: DEV -> OFF001  (its agent never picks jobs up: they stay scheduled, then expire)
  FLEET00001..: DEV -> F00001..  (``fleet_size`` of them, none by default)
A package whose name starts with ``fail`` ends with ``delivered: "N"`` and an error text, the
(undocumented) failure value a playbook must treat as a clear failure.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import shlex
import string
import threading
from dataclasses import dataclass
from typing import Any

from runner.connectors import Faults, Reply, Request, Simulator, json_reply, route

DEFAULT_MACHINES = [
    {"machineId": "123ABC", "hostname": "NTB1", "department": "DEV"},
    {"machineId": "ABC987", "hostname": "NTB1", "department": "Comercial"},
    {"machineId": "456DEF", "hostname": "NTB2", "department": "DEV"},
    {"machineId": "OFF001", "hostname": "OFFLINE1", "department": "DEV"},
]
OFFLINE = {"OFF001"}


def _fail(status: int, error: str) -> Reply:
    return json_reply(status, {"status": False, "data": {}, "error": error})


def _ok(data: dict[str, Any]) -> Reply:
    return json_reply(200, {"status": True, "data": data})


def _stamp(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class Job:
    """A distribution job the simulator runs on one machine."""
    name: str
    machine_id: str
    package: str
    created: float
    wall: dt.datetime


class AutomatosSimulator(Simulator):
    name = "automatos"
    prefix = "/api/distribution/api"

    def __init__(
        self,
        *,
        schedule_seconds: float = 0.5,
        run_seconds: float = 1.0,
        expire_seconds: float = 300.0,
        offline_expire_seconds: float = 2.0,
        not_found_seconds: float = 0.0,
        token_ttl: float = 3600.0,
        machines: list[dict[str, str]] | None = None,
        fleet_size: int = 0,
        automatos_id: str | None = None,
        automatos_key: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.schedule_seconds = schedule_seconds
        self.run_seconds = run_seconds
        self.expire_seconds = expire_seconds
        self.offline_expire_seconds = offline_expire_seconds
        self.not_found_seconds = not_found_seconds
        self.token_ttl = token_ttl
        self.machines = list(machines or DEFAULT_MACHINES)
        # a fleet for trying loops and batches at scale: FLEET00001.. in DEV, one machine each
        self.machines += [{"machineId": f"F{i:05d}", "hostname": f"FLEET{i:05d}",
                           "department": "DEV"} for i in range(1, fleet_size + 1)]
        digits = "".join(secrets.choice(string.digits) for _ in range(12))
        self.automatos_id = automatos_id or digits
        self.automatos_key = automatos_key or base64.b64encode(secrets.token_bytes(33)).decode()
        self.tokens: dict[str, float] = {}  # token -> expiry (clock time)
        self.jobs: dict[str, Job] = {}
        self.distributions: list[dict[str, Any]] = []  # every accepted create, for tests
        self._job_lock = threading.Lock()

    def connector_settings(self) -> dict[str, Any]:
        return {
            "base_url": self.url,
            "automatos_id": self.automatos_id,
            "automatos_key": self.automatos_key,
        }

    def secret_values(self) -> list[str]:
        return [self.automatos_key, *self.tokens]

    def example_request(self) -> str:
        # the login; its data.token then goes as "Authorization: Bearer <token>"
        body = json.dumps({"automatosId": self.automatos_id, "automatosKey": self.automatos_key})
        return shlex.join(["curl", "-H", "Content-Type: application/json", "-d", body,
                           self.url + "/auth"])

    def expire_tokens(self) -> None:
        """Make every issued token expired (tests of renewal on 403)."""
        with self.lock:
            for t in self.tokens:
                self.tokens[t] = 0.0

    # -- helpers -----------------------------------------------------------------------
    def _authorized(self, req: Request) -> bool:
        token = req.bearer()
        with self.lock:
            expiry = self.tokens.get(token or "")
        return expiry is not None and self.clock() < expiry

    # -- routes ------------------------------------------------------------------------
    @route("POST", "/auth", "auth")
    def auth(self, req: Request) -> Reply:
        try:
            body = req.json()
        except ValueError:
            return _fail(400, "invalid credential")
        if (
            not isinstance(body, dict)
            or str(body.get("automatosId")) != self.automatos_id
            or body.get("automatosKey") != self.automatos_key
        ):
            return _fail(400, "invalid credential")
        token = secrets.token_hex(16).upper()
        with self.lock:
            self.tokens[token] = self.clock() + self.token_ttl
        return _ok({"token": token})

    @route("GET", "/machine", "get_machine")
    def get_machine(self, req: Request) -> Reply:
        if not self._authorized(req):
            return _fail(403, "Unauthorized access")
        hostname = req.query.get("hostname", "")
        found = [m for m in self.machines if m["hostname"].lower() == hostname.lower()]
        if not hostname or not found:
            return _fail(400, "machine not found")
        return _ok({"machines": found})

    @route("POST", "/express/distribution", "create_distribution")
    def create_distribution(self, req: Request) -> Reply:
        if not self._authorized(req):
            return _fail(403, "Unauthorized access")
        try:
            body = req.json()
        except ValueError:
            return _fail(400, "Something went wrong")
        if not isinstance(body, dict):
            return _fail(400, "Something went wrong")
        machine_id = body.get("machineId")
        package = body.get("package")
        known = {m["machineId"] for m in self.machines}
        if machine_id not in known or not isinstance(package, str) or not package:
            return _fail(400, "Something went wrong")
        name = "".join(secrets.choice(string.ascii_uppercase) for _ in range(4)) + "".join(
            secrets.choice(string.digits) for _ in range(6)
        )
        with self._job_lock:
            self.jobs[name] = Job(name, machine_id, package, self.clock(), dt.datetime.now())
            self.distributions.append(dict(body, jobName=name))
        return _ok({"jobName": name})

    @route("GET", "/express/distribution", "distribution_status")
    def distribution_status(self, req: Request) -> Reply:
        if not self._authorized(req):
            return _fail(403, "Unauthorized access")
        job = self.jobs.get(req.query.get("jobName", ""))
        if job is None:
            return _fail(400, "Job not found")
        age = self.clock() - job.created
        if age < self.not_found_seconds:
            return _fail(400, "Job not found")  # NOTES: briefly, right after creation
        if job.machine_id in OFFLINE:
            if age >= self.offline_expire_seconds:
                return _fail(400, "Expired Job")
            return _ok({"delivered": "scheduled"})
        if age < self.schedule_seconds:
            return _ok({"delivered": "scheduled"})
        start = job.wall + dt.timedelta(seconds=self.schedule_seconds)
        done_at = self.schedule_seconds + self.run_seconds
        if age < done_at:
            return _ok({"startTime": _stamp(start), "delivered": "running"})
        if age >= done_at + self.expire_seconds:
            return _fail(400, "Expired Job")
        stop = job.wall + dt.timedelta(seconds=done_at)
        if job.package.lower().startswith("fail"):
            return _ok({"startTime": _stamp(start), "stopTime": _stamp(stop),
                        "delivered": "N", "error": f"Installation of {job.package} failed"})
        return _ok({"startTime": _stamp(start), "stopTime": _stamp(stop),
                    "delivered": "Y", "error": ""})


def make(**options: Any) -> AutomatosSimulator:
    faults = options.pop("faults", None)
    return AutomatosSimulator(faults=Faults(**faults) if isinstance(faults, dict) else faults,
                              **options)

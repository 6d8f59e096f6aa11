"""A WSGI app for the limits tests, served by cheroot (``wsgi_servers.serving``): it notes when
each request arrived (this process's monotonic clock) and how many were in flight at most, and
answers from a script: the next statuses to give (``then``), each with its headers, else 200.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any


class Recorder:
    def __init__(self, hold: float = 0.0) -> None:
        self.hold = hold  # seconds each answer takes
        self.arrivals: list[tuple[float, str]] = []  # (monotonic, path)
        self.script: list[tuple[int, dict[str, str]]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def then(self, status: int, times: int = 1, **headers: str) -> None:
        """The next ``times`` answers have ``status`` (and these headers)."""
        with self._lock:
            self.script += [(status, {k.replace("_", "-"): v for k, v in headers.items()})
                            ] * times

    def count(self) -> int:
        with self._lock:
            return len(self.arrivals)

    def times(self) -> list[float]:
        with self._lock:
            return [t for t, _ in self.arrivals]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self._lock:
            self.arrivals.append((time.monotonic(), environ.get("PATH_INFO", "")))
            status, headers = self.script.pop(0) if self.script else (200, {})
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.hold:
                time.sleep(self.hold)
            body = json.dumps({"status": status}).encode()
            start_response(f"{status} X", [("Content-Type", "application/json"),
                                           ("Content-Length", str(len(body))),
                                           *headers.items()])
            return [body]
        finally:
            with self._lock:
                self.in_flight -= 1

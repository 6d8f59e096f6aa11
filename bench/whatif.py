"""What-if: the per-call scenario with other transports patched in, in this process only.

Not engine code: transports that replace ``runner.connectors.client.Transport`` while the
scenario runs, to put a number on what the transport costs:

- "requests transport (before issue 5)": the engine's transport as it was, one
  ``requests.Session`` (``trust_env`` on: requests scans ``os.environ`` for proxies and stats
  ``~/.netrc`` on every request). Happy path only.
- "prototype urllib3 transport": a bare ``urllib3.PoolManager`` sending the prepared call
  (no proxies, no redirect rules, errors not translated): the floor of a urllib3 transport,
  beside the engine's own (``runner today``), which does all of those.

Same playbook, same simulator, store off; interleaved with the unchanged engine and the
``requests`` and ``urllib3`` baselines of ``bench/per_call.py``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from bench import Outcome, log, median, rounds
from bench.per_call import CALLS, with_requests, with_runner, with_urllib3


def _transports() -> tuple[type, type]:
    import urllib3

    from runner.connectors import encoding, http
    from runner.connectors.response import Response
    from runner.errors import TransportError

    class RequestsTransport:
        def __init__(self, *, connect_timeout: float = 5.0, read_timeout: float = 30.0,
                     max_bytes: int = http.MAX_BYTES, verify: bool | str = True,
                     **_: Any) -> None:  # the settings a prototype does not do
            import requests

            self.session = requests.Session()
            self.session.verify = verify
            self.timeout = (connect_timeout, read_timeout)
            self.max_bytes = max_bytes

        follow_redirects = True  # what the client asks of a transport (ConnectorClient)

        def follows(self, call: Any) -> bool:
            return True

        def close(self) -> None:
            self.session.close()

        def send(self, call: Any) -> Any:
            headers = dict(call.headers)
            data: Any = call.body_bytes()
            if data is not None:
                headers.setdefault("Content-Type", "application/json; charset=utf-8")
            elif call.form is not None:
                data = {k: v for k, v in call.form.items() if v is not None}
            params = {k: encoding.query_value(v) for k, v in call.query.items() if v is not None}
            start = time.perf_counter()
            r = self.session.request(call.method, call.url, params=params or None, data=data,
                                     headers=headers, timeout=self.timeout, stream=True,
                                     allow_redirects=True)
            try:
                content = r.raw.read(self.max_bytes + 1, decode_content=True)
            finally:
                r.close()
            elapsed = (time.perf_counter() - start) * 1000
            return Response(r.status_code, {k.lower(): v for k, v in r.headers.items()},
                            bytes(content), url=r.url, method=call.method, elapsed_ms=elapsed,
                            decode=call.decode)

    class Urllib3Transport:
        def __init__(self, *, connect_timeout: float = 5.0, read_timeout: float = 30.0,
                     max_bytes: int = http.MAX_BYTES, verify: bool | str = True,
                     **_: Any) -> None:  # the settings a prototype does not do
            self.pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED" if verify else "CERT_NONE")
            self.timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
            self.max_bytes = max_bytes

        follow_redirects = True  # what the client asks of a transport (ConnectorClient)

        def follows(self, call: Any) -> bool:
            return True

        def close(self) -> None:
            self.pool.clear()

        def send(self, call: Any) -> Any:
            headers = dict(call.headers)
            body: bytes | str | None = call.body_bytes()
            if body is not None:
                headers.setdefault("Content-Type", "application/json; charset=utf-8")
            elif call.form is not None:
                body = urlencode({k: v for k, v in call.form.items() if v is not None})
                headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
            params = {k: encoding.query_value(v) for k, v in call.query.items() if v is not None}
            url = call.url
            if params:
                url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
            start = time.perf_counter()
            try:
                r = self.pool.request(call.method, url, body=body, headers=headers,
                                      timeout=self.timeout, preload_content=False,
                                      redirect=True, retries=False)
                try:
                    content = r.read(self.max_bytes + 1, decode_content=True)
                finally:
                    r.release_conn()
            except urllib3.exceptions.HTTPError as e:  # the prototype does not tell kinds apart
                raise TransportError(f"{type(e).__name__}: {e}", sent=True) from None
            elapsed = (time.perf_counter() - start) * 1000
            if content[:2] == http.GZIP_MAGIC and call.decode in ("xml", "auto", "text"):
                content = http._gunzip(content, self.max_bytes, url)
            return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, content,
                            url=url, method=call.method, elapsed_ms=elapsed, decode=call.decode)

    return RequestsTransport, Urllib3Transport


@contextlib.contextmanager
def transport(cls: type) -> Iterator[None]:
    from runner.connectors import client

    saved = client.Transport
    client.Transport = cls  # type: ignore[misc]
    try:
        yield
    finally:
        client.Transport = saved  # type: ignore[misc]


def run(opts: Any) -> Outcome:
    from runner.sandbox import Sandbox

    out = Outcome("whatif", f"per-call ({CALLS:,} calls, store off) with prototype transports")
    reps = 3
    kw = {"store": False}
    with_requests_transport, plain_urllib3 = _transports()

    def engine_with(cls: type, box: Any, n: int) -> None:
        with transport(cls):
            with_runner(box, n, **kw)

    with Sandbox() as box:
        box.start(["automatos"])
        settings = box.settings("automatos")

        def variants(n: int) -> dict[str, Any]:
            return {
                "runner today": lambda: with_runner(box, n, **kw),
                "runner, requests transport (before issue 5)":
                    lambda: engine_with(with_requests_transport, box, n),
                "runner, prototype urllib3 transport":
                    lambda: engine_with(plain_urllib3, box, n),
                "requests": lambda: with_requests(settings, n),
                "urllib3": lambda: with_urllib3(settings, n),
            }

        rounds(variants(50), 1)
        log(f"whatif: {reps} interleaved rounds of {CALLS} calls per variant")
        times = rounds(variants(CALLS), reps)

    def ratio(a: str, b: str) -> float:
        return median([x / y for x, y in zip(times[a], times[b], strict=True)])

    for name in ("runner today", "runner, requests transport (before issue 5)",
                 "runner, prototype urllib3 transport"):
        out.add(f"{name}: per call", median(times[name]) / CALLS * 1e6, "us")
        if name == "runner today":
            out.add(f"{name} / requests", ratio(name, "requests"), "x", target=("<=", 1.15))
            out.add(f"{name} / urllib3", ratio(name, "urllib3"), "x", target=("<=", 1.5),
                    stretch=True)
        else:  # references: what the engine would cost with them; no target of their own
            out.add(f"{name} / requests", ratio(name, "requests"), "x")
            out.add(f"{name} / urllib3", ratio(name, "urllib3"), "x")
    out.details = {
        "calls_per_repetition": CALLS, "repetitions": reps,
        "seconds": {k: [round(t, 4) for t in v] for k, v in times.items()},
        "per_call_us": {k: round(median(v) / CALLS * 1e6, 1) for k, v in times.items()},
        "note": "prototypes patched into this process only; see the module docstring",
    }
    return out

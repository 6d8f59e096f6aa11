"""What the process scenarios share: the aiohttp server, the child's environment, one timed child.

The ``process_*`` scenarios (``process_cold``, ``process_calls``, ``process_memory``,
``process_batch``) time whole processes, the way a user types the command: ``runner run ...``
from the venv's ``runner`` script, beside raw scripts (``bench/scripts/*_calls.py``) that are
processes too, in the same rounds, against ``bench/aioserver.py`` in a process of its own.

Every child gets a clean environment: ``HOME`` and the default run store (``RUNNER_STORE``) in
the scenario's temp dir, no proxy variables, and its bytecode cache (``BYTECODE``): "cached"
(the ``.pyc`` files as imports wrote them), "not written" (``PYTHONDONTWRITEBYTECODE=1``: the
``.pyc`` there are read, none is written; what pip installed has them, bench/installs.py), or
"nothing cached" (that variable and ``PYTHONPYCACHEPREFIX`` at a fresh empty directory, so the
child compiles every module it imports, the stdlib's too, and reads no ``.pyc``). Its wall
time and CPU (user + sys) come from ``os.wait4`` of that one child. Its peak RSS, when asked
for, comes from GNU time (``/usr/bin/time -f %M``, the ``time`` package): Linux counts in a
child's ``ru_maxrss`` the peak of the process it was forked from (the mm it copied, recorded at
exec), so ``wait4`` from this ~25 MB process would say 25 MB for a 10 MB ``python -c pass``;
``time`` is a small process, and it reports the peak of the one child it forks.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import BIN, ROOT, RUNNER

USERNAME, PASSWORD = "bench", "bench-password-3f9c"  # the server's one user (POST /login)
SCRIPTS = ROOT / "bench" / "scripts"
GNU_TIME = shutil.which("time", path="/usr/bin:/bin")
PYTHON = str(BIN / "python")
BASELINES = {  # label: the raw script, run as `python <script> BASE_URL N`
    "requests": SCRIPTS / "requests_calls.py",
    "urllib3": SCRIPTS / "urllib3_calls.py",
    "http.client": SCRIPTS / "httpclient_calls.py",
}


@dataclass
class Child:
    """One finished child process: what it cost, and how it ended."""

    wall: float  # seconds, from start to reaped
    cpu: float  # user + sys seconds of the child
    rss_mb: float  # its peak resident memory (NaN unless asked for and GNU time is there)
    code: int
    output: str


class Server:
    """``bench/aioserver.py`` as a process of its own on a free loopback port."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(16)  # accepted as a bearer without a login
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "bench.aioserver", f"--token={self.token}"], cwd=ROOT,
            stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError("bench/aioserver.py did not start (is aiohttp installed? "
                               "make bench installs the bench extra: pip install -e '.[bench]')")
        deadline = time.monotonic() + 20
        while True:  # the port is bound before it prints; wait until the app answers
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.05)

    def stats(self) -> dict[str, int]:
        with urllib.request.urlopen(self.url + "/stats", timeout=5) as r:
            data: dict[str, int] = json.loads(r.read())
        return data

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def workplace() -> Iterator[tuple[Server, Path]]:
    """The server and a temp dir with an environment file for both bench playbooks' aliases."""
    with tempfile.TemporaryDirectory(prefix="bench-process-") as name:
        tmp = Path(name)
        server = Server()
        try:
            (tmp / "env.yaml").write_text(
                "description: bench/aioserver.py on loopback\n"
                "connectors:\n"
                f"  api: {{base_url: '{server.url}', auth: login, username: {USERNAME},\n"
                "        password: {secret: BENCH_PASSWORD}}\n"
                f"  one: {{base_url: '{server.url}', auth: bearer,"
                " token: {secret: BENCH_TOKEN}}\n")
            (tmp / "home").mkdir()
            yield server, tmp
        finally:
            server.stop()


BYTECODE = ("cached", "not written", "nothing cached")
_FRESH = "<a fresh empty directory>"  # run_child makes one per process


def child_env(tmp: Path, *, store: Path | None = None, token: str | None = None,
              bytecode: str = "cached") -> dict[str, str]:
    env = {"PATH": f"{BIN}{os.pathsep}{os.defpath}", "HOME": str(tmp / "home"),
           "RUNNER_STORE": str(store or tmp / "runs.db"), "BENCH_PASSWORD": PASSWORD,
           "NO_PROXY": "127.0.0.1,localhost"}
    for name in ("LANG", "LC_ALL", "TZ"):
        if name in os.environ:
            env[name] = os.environ[name]
    if token:
        env["BENCH_TOKEN"] = token
    if bytecode not in BYTECODE:
        raise ValueError(f"bytecode: {bytecode!r}, not one of {BYTECODE}")
    if bytecode != "cached":
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    if bytecode == "nothing cached":
        env["PYTHONPYCACHEPREFIX"] = _FRESH
    return env


def run_child(cmd: list[str], env: dict[str, str], *, check: bool = True,
              memory: bool = False) -> Child:
    """Run ``cmd`` to its end; with nothing cached (``env``), a fresh empty pycache prefix.

    ``memory``: measure its peak RSS through GNU time (a fork and exec more: ~1 ms of wall).
    """
    prefix = None
    if env.get("PYTHONPYCACHEPREFIX") == _FRESH:
        prefix = tempfile.mkdtemp(prefix="bench-nopyc-")
        env = {**env, "PYTHONPYCACHEPREFIX": prefix}
    peak = math.nan
    try:
        with tempfile.TemporaryFile("w+") as out, \
                tempfile.NamedTemporaryFile("r", prefix="bench-rss-") as rss:
            argv = [GNU_TIME, "-f", "%M", "-o", rss.name, *cmd] if memory and GNU_TIME else cmd
            start = time.perf_counter()
            proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait
            out.seek(0)
            text = out.read()
            if memory and GNU_TIME:
                last = (rss.read().strip().splitlines() or [""])[-1]  # after any "exited" line
                peak = int(last) * 1024 / 1e6 if last.isdigit() else math.nan
    finally:
        if prefix:
            shutil.rmtree(prefix, ignore_errors=True)
    child = Child(wall, usage.ru_utime + usage.ru_stime, peak, proc.returncode, text)
    if check and child.code != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {child.code}:\n{text[-1500:]}")
    return child


def runner_cmd(*args: str) -> list[str]:
    return [str(RUNNER), *args]


def script_cmd(label: str, url: str, n: int) -> list[str]:
    return [PYTHON, str(BASELINES[label]), url, str(n)]


def interleaved(variants: dict[str, Callable[[], Child]], reps: int) -> dict[str, list[Child]]:
    """Each variant ``reps`` times, round by round (A B C A B C ...): drift hits all alike."""
    out: dict[str, list[Child]] = {name: [] for name in variants}
    for _ in range(reps):
        for name, fn in variants.items():
            out[name].append(fn())
    return out

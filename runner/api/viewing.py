"""``runner.api.ui``: serve the read-only web view of the run store (``runner ui``) until
stopped. (The module is ``viewing``: one named ``ui`` would shadow the function.)

The rule for where it listens: on loopback anyone on the machine may look, as with ``runner
history``; on any other address only with a token, which every request must then carry
(:mod:`runner.ui.app`). Starlette and uvicorn are imported here and in ``runner.ui`` only.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

from runner.errors import InvalidInput
from runner.extras import need

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def ui(*, store: str | None = None, schedules: str | None = None, host: str = "127.0.0.1",
       port: int = 8765, token: str | None = None, stale_after: float = 30.0,
       on_ready: Callable[[str], None] | None = None) -> None:
    """Serve the web view of ``store`` on ``host:port`` until Ctrl-C or SIGTERM;
    ``schedules``: a schedule file whose schedules the view shows; ``on_ready`` is called with
    the address before serving."""
    if not token and not is_loopback(host):
        raise InvalidInput(f"runner ui on {host} needs a token: every page shows the run "
                           "history to whoever can reach it",
                           hint="give --token (or set RUNNER_UI_TOKEN), or keep the default "
                           "--host 127.0.0.1 and reach it through an SSH tunnel or a proxy")
    need("ui", "runner ui")
    import uvicorn

    from runner.api.records import since
    from runner.schedule_file import load_schedules
    from runner.ui.app import Config, build_app
    from runner.ui.reader import Reader

    if schedules:
        load_schedules(schedules)  # a wrong file is said now, with its file:line
    reader = Reader(store)
    app = build_app(Config(reader=reader, schedules=schedules, token=token or None,
                           stale_after=stale_after, since=since))
    sock = _listen(host, port)  # bound here: a taken port is the user's to fix, said so
    # no access log: a first visit's address carries ?token=
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           access_log=False, server_header=False,
                                           proxy_headers=True))
    if on_ready is not None:
        shown = f"[{host}]" if ":" in host else host
        on_ready(f"http://{shown}:{sock.getsockname()[1]}/")
    server.run(sockets=[sock])


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as e:
        sock.close()
        raise InvalidInput(f"runner ui cannot listen on {host}:{port}: {e.strerror or e}",
                           hint="choose another --port (or stop what listens there), or "
                           "give --host an address of this machine") from None
    return sock

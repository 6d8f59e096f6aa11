"""httpbin (the service requests tests itself against), served on a free loopback port by
cheroot in a thread: a real HTTP server that no one here wrote, for the transport's tests.

``serve()`` is a context manager; a test module makes it its fixture (one server per module)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from cheroot import wsgi

# httpbin warns once at import that flasgger (its Swagger UI) is missing: it is not needed
logging.getLogger("httpbin.core").setLevel(logging.ERROR)
logging.getLogger("flask.app").setLevel(logging.ERROR)


@contextmanager
def serve() -> Iterator[str]:
    """httpbin's WSGI app on 127.0.0.1 and a free port; its base URL (no trailing slash)."""
    from httpbin import app  # here: importing it builds the Flask app (a few hundred ms)

    server = wsgi.Server(("127.0.0.1", 0), app, numthreads=4)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.bind_addr[1]}"
    finally:
        server.stop()
        thread.join(timeout=10)


"""Where the run store is: a file path or a SQLAlchemy URL, and how a URL shows in messages.

A ``sqlite`` URL is opened with the stdlib ``sqlite3`` (:func:`sqlite_path` says which
file); any other URL through SQLAlchemy.

The default store is ``$XDG_STATE_HOME/runner/runs.db`` (``~/.local/state/runner/runs.db``);
``--store`` or ``RUNNER_STORE`` give a path or a URL (``postgresql+psycopg://...``). A room of
its own because the Celery side names the store to its workers without opening it.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def default_url() -> str:
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return str(Path(base) / "runner" / "runs.db")


def to_url(location: str | None) -> str:
    """The store's URL: ``location``, else ``RUNNER_STORE``, else the default file; a path
    becomes a ``sqlite:///`` URL and its folder is created."""
    location = location or os.environ.get("RUNNER_STORE") or default_url()
    if "://" in location:
        return location
    path = Path(location).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def sqlite_path(url: str) -> str | None:
    """The file of a ``sqlite:///path`` URL (``sqlite+pysqlite:`` too), None for a URL of
    another database. A SQLite URL without a file (``sqlite://``, in memory) is refused: a
    store in memory would forget every run when the command ends."""
    scheme, sep, rest = url.partition(":///")
    if scheme.split("+")[0] != "sqlite":
        if url.split("+")[0].split(":")[0] == "sqlite":
            raise ValueError("a SQLite store needs a file: sqlite:///PATH")
        return None
    path = rest.split("?")[0]
    if not sep or not path or path == ":memory:":
        raise ValueError("a SQLite store needs a file: sqlite:///PATH")
    return path


def masked_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = f"{parts.username}:***@" if parts.username else ":***@"
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=user + host))
    except ValueError:  # not a URL we can parse: show no part of it that could hold a password
        return url.split("@")[-1]

"""Where the run store is: a file path or a SQLAlchemy URL, and how a URL shows in messages.

The default store is ``$XDG_STATE_HOME/runner/runs.db`` (``~/.local/state/runner/runs.db``);
``--store`` or ``RUNNER_STORE`` give a path or a URL (``postgresql+psycopg://...``). A room of
its own because the Celery side names the store to its workers without opening it.
"""

from __future__ import annotations

import os
from pathlib import Path


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


def masked_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    from sqlalchemy.engine import make_url  # this module stays free of SQLAlchemy until then

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL we can parse: show no part of it that could hold a password
        return url.split("@")[-1]

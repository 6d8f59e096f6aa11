"""``runner.api.write_schemas``: ``schemas/*.json`` written from the code and the installed
connectors (``runner schema``)."""

from __future__ import annotations

from runner.schemas import write_schemas as write


def write_schemas(check: bool = False) -> list[str]:
    """Write the schemas (``check``: only say which are stale); the paths written or stale."""
    return [str(p) for p in write(check=check)]

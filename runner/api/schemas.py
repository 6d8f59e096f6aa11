"""``runner.api.write_schemas``: the JSON Schemas written from the code and the installed
connectors into a folder of the user's (``runner schema``)."""

from __future__ import annotations

from pathlib import Path

from runner.schemas import write_schemas as write


def write_schemas(out: str | Path | None = None, *, check: bool = False) -> tuple[str, list[str]]:
    """Write the schemas into ``out`` (default: ``./schemas`` of the repository of playbooks
    the current folder is; else an error asks for ``out``), or with ``check`` only say which
    are stale; the folder, and the paths written or stale (relative to the current folder
    when inside it)."""
    folder, changed = write(Path(out) if out is not None else None, check=check)
    return _shown(folder), [_shown(p) for p in changed]


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)

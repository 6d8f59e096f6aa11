"""``runner.api.import_arazzo``: an Arazzo workflow document as playbooks, each one checked
as ``runner validate`` checks it before the import says it is done."""

from __future__ import annotations

from pathlib import Path

from runner.arazzo_convert import Imported
from runner.arazzo_convert import import_arazzo as _convert
from runner.playbook import load_playbook


def import_arazzo(file: str | Path, out_dir: str | Path, *, sources: dict[str, str] | None = None,
                  force: bool = False) -> Imported:
    """Write one playbook per workflow of ``file`` into ``out_dir`` (``sources``: a local
    file for a source the document names by URL); raises PlaybookError if one does not
    validate."""
    done = _convert(file, out_dir, sources=dict(sources or {}), force=force)
    for path in done.written:
        load_playbook(path, root=Path(out_dir))
    return done

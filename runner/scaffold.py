"""``runner init``: a repository of playbooks to start from, written into a folder.

The files are package data (``runner/scaffold_files/``, flat, so that setuptools' globs and a
reader find them) and go where a repository has them: a sample playbook that runs in the
sandbox, an example environment, the editor's and pre-commit's settings; then the schemas,
generated as ``runner schema`` writes them. A file that exists is kept, never overwritten
(unless ``force``): ``init`` on an existing repository adds only what it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from runner.errors import InvalidInput

FILES = Path(__file__).resolve().parent / "scaffold_files"
# where each template goes in the repository
LAYOUT = {
    "hello.yaml": "playbooks/hello.yaml",
    "prod.yaml": "environments/prod.yaml",
    "vscode-settings.json": ".vscode/settings.json",
    "pre-commit-config.yaml": ".pre-commit-config.yaml",
}


@dataclass
class Scaffolded:
    """What ``init`` did, each path relative to the folder."""

    folder: Path
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # there already (and not ``force``)


def init(folder: Path, *, force: bool = False) -> Scaffolded:
    """Write the repository's files into ``folder`` (created if need be)."""
    from runner.schemas import SCHEMA_NAMES, generated, render

    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"{folder} is a file, not a folder",
                           hint="give runner init a folder (new or existing)")
    done = Scaffolded(folder)
    texts = {dest: (FILES / name).read_text(encoding="utf-8") for name, dest in LAYOUT.items()}
    local = folder / "connectors"  # an existing repository's own connectors join the schema
    schemas = generated(local if local.is_dir() else None)
    texts.update({f"schemas/{name}": render(schemas[name]) for name in SCHEMA_NAMES})
    for dest, text in texts.items():
        path = folder / dest
        if path.exists() and not force:
            done.kept.append(dest)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        done.written.append(dest)
    return done

"""Write the JSON Schemas (``runner schema``, ``runner init``) from the code and the installed
connectors, into a folder the user chose: never into runner's own installed files.

Where they go: ``--out DIR``; without it, ``./schemas`` of a repository of playbooks, which is a
folder that has ``schemas/``, ``playbooks/``, ``connectors/`` or ``.git`` (so runner's own
checkout writes its committed ``schemas/``); anywhere else the command asks for ``--out``.
A repository's ``connectors/`` folder (connector files, no package installed:
:mod:`runner.connectors.local`) joins the installed connectors in the playbook schema, for that
repository's editors.

The wheel ships the schemas too, as the package ``runner.schema_files`` (setup.py maps it to the
repository's ``schemas/``): :data:`SCHEMA_DIR` is that folder once installed, the checkout's
``schemas/`` in an editable install.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runner.errors import InvalidInput

_PACKAGE = Path(__file__).resolve().parent
SCHEMA_DIR = (_PACKAGE / "schema_files" if (_PACKAGE / "schema_files").is_dir()
              else _PACKAGE.parent / "schemas")
SCHEMA_NAMES = ("playbook.schema.json", "connector.schema.json", "environment.schema.json",
                "schedules.schema.json")
REPOSITORY_MARKS = ("schemas", "playbooks", "connectors", ".git")  # any one of them


def generated(local: Path | None = None) -> dict[str, dict[str, Any]]:
    """The schemas; ``local``: a ``connectors/`` folder whose files join the installed ones."""
    from runner.connectors import registry
    from runner.connectors.local import in_folder
    from runner.connectors.spec import CONNECTOR_SCHEMA
    from runner.editor_schema import for_editors
    from runner.environment import ENV_SCHEMA
    from runner.schedule_schema import SCHEDULES_SCHEMA

    specs = [registry.get(n) for n in registry.installed_names()]
    if local is not None:
        mine = in_folder(local)
        for spec in mine:
            registry.add_local(spec)  # refused if it takes an installed connector's name
        specs = [*(s for s in specs if s.name not in {m.name for m in mine}), *mine]
    schemas = (for_editors(specs), CONNECTOR_SCHEMA, ENV_SCHEMA, SCHEDULES_SCHEMA)
    return dict(zip(SCHEMA_NAMES, schemas, strict=True))


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def is_repository(folder: Path) -> bool:
    return any((folder / mark).exists() for mark in REPOSITORY_MARKS)


def target(out: Path | None, repository: Path) -> Path:
    """The folder the schemas go to: ``out``, else ``repository``'s ``schemas/``."""
    if out is None:
        if not is_repository(repository):
            raise InvalidInput(
                f"{repository} is not a repository of playbooks (it has none of "
                f"{', '.join(m + '/' for m in REPOSITORY_MARKS)}): where should the schemas go?",
                hint="give --out DIR (e.g. --out schemas), or run it at the top of your "
                "playbook repository (runner init makes one)")
        out = repository / "schemas"
    if out.resolve().is_relative_to(_PACKAGE):
        raise InvalidInput(f"{out} is inside runner's installed package",
                           hint="give --out a folder of your own repository")
    return out


def write_schemas(out: Path | None = None, *, repository: Path | None = None,
                  check: bool = False) -> tuple[Path, list[Path]]:
    """Write each schema that differs into :func:`target`; the folder, and the paths written
    (with ``check``: the paths stale or missing, nothing written). ``repository`` (default:
    the current folder) is where ``schemas/`` and ``connectors/`` are looked for."""
    from runner.connectors.local import FOLDER

    repository = repository or Path.cwd()
    directory = target(out, repository)
    local = repository / FOLDER
    changed = []
    for name, schema in generated(local if local.is_dir() else None).items():
        path = directory / name
        text = render(schema)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            changed.append(path)
            if not check:
                directory.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    return directory, changed

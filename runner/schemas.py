"""Write the JSON Schemas under ``schemas/`` from the code (``runner schema``).

Run in a repository of playbooks that has its own ``connectors/`` folder (connector files, no
package installed: :mod:`runner.connectors.local`), it writes ``schemas/`` there instead, the
playbook schema with those connectors' operations too, for that repository's editors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


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
    return {
        "playbook.schema.json": for_editors(specs),
        "connector.schema.json": CONNECTOR_SCHEMA,
        "environment.schema.json": ENV_SCHEMA,
        "schedules.schema.json": SCHEDULES_SCHEMA,
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(directory: Path | None = None, *, check: bool = False) -> list[Path]:
    """Write each schema that differs; return those paths (with check, write nothing).
    ``directory`` by default: ``./schemas`` in a repository with a ``connectors/`` folder, else
    runner's own."""
    from runner.connectors.local import FOLDER

    local = Path.cwd() / FOLDER
    mine = local.is_dir() and directory is None
    if directory is None:
        directory = Path.cwd() / "schemas" if mine else SCHEMA_DIR
    changed = []
    for name, schema in generated(local if mine else None).items():
        path = directory / name
        text = render(schema)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            changed.append(path)
            if not check:
                directory.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    return changed

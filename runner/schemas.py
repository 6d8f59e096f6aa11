"""Write the JSON Schemas under ``schemas/`` from the code (``runner schema``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


def generated() -> dict[str, dict[str, Any]]:
    from runner.connectors import registry
    from runner.connectors.spec import CONNECTOR_SCHEMA
    from runner.editor_schema import for_editors
    from runner.environment import ENV_SCHEMA
    from runner.schedule_schema import SCHEDULES_SCHEMA

    return {
        "playbook.schema.json": for_editors(registry.all_specs()),
        "connector.schema.json": CONNECTOR_SCHEMA,
        "environment.schema.json": ENV_SCHEMA,
        "schedules.schema.json": SCHEDULES_SCHEMA,
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(directory: Path = SCHEMA_DIR, *, check: bool = False) -> list[Path]:
    """Write each schema that differs; return those paths (with check, write nothing)."""
    changed = []
    for name, schema in generated().items():
        path = directory / name
        text = render(schema)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            changed.append(path)
            if not check:
                directory.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    return changed

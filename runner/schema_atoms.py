"""JSON Schema pieces the playbook's schema and the step kinds' fragments share.

They sit below both: ``runner.playbook_schema`` assembles the document's schema, and each
kind module under ``runner/steps/`` writes the schema of its own keys with these.
"""

from __future__ import annotations

from typing import Any

IDENT = "^[A-Za-z_][A-Za-z0-9_]*$"
DURATION: dict[str, Any] = {
    "description": "seconds, or a number with a unit: 500ms, 5s, 15m, 1h",
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\d+(\.\d+)?\s*(ms|s|m|h)$"},
    ],
}
EXPR: dict[str, Any] = {"type": "string",
                        "description": "a bare Jinja expression, e.g. response.status_code == 200"}

"""An included playbook's inputs, read for completion under an include step's ``with:``
(parsed, not validated: it may be mid-edit in another tab)."""

from __future__ import annotations

from pathlib import Path

from runner.errors import RunnerError
from runner.loader import load_file


def included_inputs(path: Path) -> dict[str, tuple[bool, str]]:
    """Each input's name -> (required, description); empty when the file does not load."""
    try:
        data = load_file(path).data
    except RunnerError:
        return {}
    raw = data.get("inputs") if isinstance(data, dict) else None
    out = {}
    for name, spec in (raw if isinstance(raw, dict) else {}).items():
        spec = spec if isinstance(spec, dict) else {}
        required = bool(spec.get("required", "default" not in spec))
        out[str(name)] = (required, str(spec.get("description", "")))
    return out

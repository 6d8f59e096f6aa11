"""The rows of inputs of a batch (``runner run --inputs-from FILE``): one run per row.

A JSON-lines file holds one JSON object per line; a CSV file's header row names the inputs and
an empty cell means "not given", so the input's default applies; a YAML file (``.yaml``,
``.yml``) is a list of mappings, one per run, whose values keep their YAML types. Every mistake
is an :class:`~runner.errors.InvalidInput` that names the file and the line.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from runner.errors import InvalidInput, PlaybookError


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Rows of inputs from a ``.jsonl`` (or ``.ndjson``), ``.csv`` or ``.yaml`` file."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".csv", ".yaml", ".yml"):
        raise InvalidInput(f"{p}: cannot read rows of inputs from a '{suffix or 'bare'}' file",
                           hint="give a .jsonl file (one JSON object per line), a .csv file "
                           "whose header row names the inputs or a .yaml list of mappings")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise InvalidInput(f"{p}: {e.strerror or e}", hint="check the path") from None
    except UnicodeDecodeError as e:
        raise InvalidInput(f"{p}: not UTF-8 text ({e.reason})") from None
    if suffix in (".yaml", ".yml"):
        return _read_yaml(p, text)
    return _read_csv(p, text) if suffix == ".csv" else _read_jsonl(p, text)


def _read_yaml(p: Path, text: str) -> list[dict[str, Any]]:
    from runner.loader import load_text  # PyYAML: only for a YAML file

    try:
        doc = load_text(text, str(p))
    except PlaybookError as e:
        e.show_source = False  # a row may hold a secret input
        raise
    hint = "write a list with one mapping of inputs per run, e.g. - {hostname: NTB1}"
    if not isinstance(doc.data, list):
        kind = "nothing" if doc.data is None else f"a {type(doc.data).__name__}"
        raise PlaybookError(f"expected a list of rows of inputs, got {kind}",
                            location=doc.loc(()), hint=hint, show_source=False)
    for i, row in enumerate(doc.data):
        if not isinstance(row, dict):
            raise PlaybookError(f"row {i + 1}: expected a mapping of inputs, got "
                                f"{'nothing' if row is None else type(row).__name__}",
                                location=doc.loc((i,)), hint=hint, show_source=False)
    return [dict(row) for row in doc.data]


def _read_jsonl(p: Path, text: str) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as e:
            raise InvalidInput(f"{p}:{number}: not valid JSON: {e}",
                               hint="each line must be one JSON object of inputs") from None
        if not isinstance(row, dict):
            raise InvalidInput(f"{p}:{number}: expected a JSON object of inputs, got "
                               f"{type(row).__name__}",
                               hint='write one object per line, e.g. {"hostname": "NTB1"}')
        rows.append(row)
    return rows


def _read_csv(p: Path, text: str) -> list[dict[str, Any]]:
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise InvalidInput(f"{p}:1: the CSV file has no header row",
                           hint="the first row names the inputs, e.g. hostname,department")
    names = [h.strip() for h in header]
    if any(not n for n in names) or len(set(names)) != len(names):
        raise InvalidInput(f"{p}:1: every column needs a distinct input name, got {names}")
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        number = reader.line_num
        if len(cells) > len(names):
            raise InvalidInput(f"{p}:{number}: {len(cells)} cells for {len(names)} columns",
                               hint="quote cells that contain commas")
        # an empty cell is "not given": the input's default applies
        rows.append({n: c for n, c in zip(names, cells, strict=False) if c != ""})
    return rows

"""A run's report as JSON with every secret masked, fast for a report of many exchanges."""

from __future__ import annotations

import json
from typing import Any

from runner.secrets import Redactor

# characters JSON (as json.dumps writes it) may have outside its strings
_OUTSIDE_STRINGS = frozenset('{}[],: \t\r\n0123456789-+.eEtruefalsn')


def redacted_json(redactor: Redactor, data: Any) -> str:
    """``data`` as JSON with every secret masked, without walking a report of thousands of
    exchanges string by string when the JSON text can be masked as it is.

    JSON escapes character by character, so a string holding a secret holds, once dumped, a
    form of it the redactor knows. Masking the text is safe when each secret form has no quote
    or backslash (a match cannot cross a string's edge) and a character JSON never has outside
    strings (a match cannot lie outside one); a match over an escape sequence breaks it, which
    parsing the result catches. Anything else takes the walk over the data.
    """
    text = json.dumps(data, default=str)
    masked = redactor.redact(text)
    if masked == text:
        return text
    if all('"' not in f and "\\" not in f and not set(f) <= _OUTSIDE_STRINGS
           for f in redactor.values):
        try:
            json.loads(masked)
            return masked
        except ValueError:
            pass
    return json.dumps(redactor.redact_data(data), ensure_ascii=False, default=str)

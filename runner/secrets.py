r"""Secret values and their redaction.

Every value known to be secret — secret settings and inputs, secrets from the environment or the
secrets file, tokens obtained at run time, values rendered from templates that read
``secrets`` or a secret input — is registered with the run's :class:`Redactor`. Every output
(console, logs, reports, errors, plan, history) passes through :meth:`Redactor.redact` on its
way out.

Each value is also registered in every form the engine itself puts it on the wire in, so a
server that echoes a request back cannot show it either (:func:`wire_forms`):

- as it is (headers, XML and text bodies, the console);
- percent-encoded: ``quote(v, safe="")`` (path parameters, ``%20`` for a space) and
  ``quote_plus(v)`` (query strings and form-urlencoded bodies, ``+`` for a space), both of the
  UTF-8 bytes;
- JSON-escaped, inside a JSON string: with ``ensure_ascii`` (``\u00e4``, what ``json.dumps``
  writes by default: query values that are lists or mappings, reports) and without it (``ä``
  kept, ``\"`` and ``\\`` escaped: request bodies are sent so);
- the ASCII JSON-escaped form percent-encoded both ways (a list or mapping in a query string).

HTTP Basic credentials are registered as their base64 ``user:password`` by the code that builds
the header (``runner.connectors.auth``); templates that derive a value from a secret register
the result (``runner.templating``).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_LENGTH = 3  # shorter values would redact ordinary text everywhere


class Redactor:
    """A run's secret values, masked in any text (:meth:`redact`). Longest first, each
    replaced wherever it occurs (``str.replace``: no regex compiled for each run's set, which
    was ~110 us and ~1.2 KB a run, and each new value compiled it again). A mask cannot make a
    new occurrence of a value unless the value holds a ``*``: a set with such a value is
    masked by one regex of the alternatives, as before."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._ordered: tuple[str, ...] | None = None  # longest first: made when first used
        self._pattern: re.Pattern[str] | None = None  # only for a value with a "*" in it
        self._lock = threading.Lock()
        for v in values:
            self.add(v)

    def add(self, value: Any) -> None:
        if not isinstance(value, str) or len(value) < MIN_LENGTH:
            return
        forms = wire_forms(value)
        with self._lock:
            new = forms - self._values
            if new:
                self._values |= new
                self._ordered = self._pattern = None

    @property
    def values(self) -> frozenset[str]:
        return frozenset(self._values)

    def _longest_first(self) -> tuple[str, ...]:
        ordered = self._ordered
        if ordered is None:
            with self._lock:
                ordered = tuple(sorted(self._values, key=len, reverse=True))
                if any("*" in v for v in ordered):  # before the values are seen: a reader
                    # that sees them sees it too
                    self._pattern = re.compile("|".join(map(re.escape, ordered)))
                self._ordered = ordered
        return ordered

    def redact(self, text: str) -> str:
        if not text:
            return text
        ordered = self._longest_first()
        pattern = self._pattern
        if pattern is not None:
            return pattern.sub(MASK, text)
        for value in ordered:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def redact_data(self, data: Any) -> Any:
        """A copy of ``data`` (dicts, lists, strings) with every secret masked."""
        if isinstance(data, str):
            return self.redact(data)
        if isinstance(data, dict):
            return {self.redact_data(k): self.redact_data(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self.redact_data(v) for v in data]
        if isinstance(data, tuple):
            return tuple(self.redact_data(v) for v in data)
        return data


def wire_forms(value: str) -> set[str]:
    """``value`` in each form it can take on the wire (the list in the module docstring)."""
    ascii_json = json.dumps(value)[1:-1]
    return {
        value,
        quote(value, safe=""),
        quote_plus(value),
        ascii_json,
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(ascii_json, safe=""),
        quote_plus(ascii_json),
    }


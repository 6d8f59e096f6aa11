"""Secret values and their redaction.

Every value known to be secret — secret settings and inputs, secrets from the environment or the
secrets file, tokens obtained at run time, values rendered from templates that read
``secrets`` — is registered with the run's :class:`Redactor`. Every output (console, logs,
reports, errors, plan, history) passes through :meth:`Redactor.redact` on its way out.

Each value is also registered in the forms it takes on the wire (URL-encoded, JSON-escaped), so
a secret sent in a query string or a JSON body is caught too.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_LENGTH = 3  # shorter values would redact ordinary text everywhere


class Redactor:
    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        for v in values:
            self.add(v)

    def add(self, value: Any) -> None:
        if not isinstance(value, str) or len(value) < MIN_LENGTH:
            return
        forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
        with self._lock:
            new = forms - self._values
            if new:
                self._values |= new
                self._pattern = None

    @property
    def values(self) -> frozenset[str]:
        return frozenset(self._values)

    def _compiled(self) -> re.Pattern[str] | None:
        pattern = self._pattern
        if pattern is None and self._values:
            with self._lock:
                alts = sorted(self._values, key=len, reverse=True)
                pattern = self._pattern = re.compile("|".join(map(re.escape, alts)))
        return pattern

    def redact(self, text: str) -> str:
        pattern = self._compiled()
        if pattern is None or not text:
            return text
        return pattern.sub(MASK, text)

    def redact_data(self, data: Any) -> Any:
        """A copy of ``data`` (dicts, lists, strings) with every secret masked."""
        if isinstance(data, str):
            return self.redact(data)
        if isinstance(data, dict):
            return {self.redact(str(k)): self.redact_data(v) for k, v in data.items()}
        if isinstance(data, (list, tuple)):
            return [self.redact_data(v) for v in data]
        return data


def read_env(name: str) -> str | None:
    return os.environ.get(name)

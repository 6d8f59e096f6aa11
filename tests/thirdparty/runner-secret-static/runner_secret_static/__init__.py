"""``{secret: {static: NAME}}``: the value of NAME in a fixed table, and where the table's
values come from, ``$STATIC_SECRETS`` (NAME=value,NAME=value) — a stand-in for a vault client.

A source is any object with ``fetch(arg, request) -> str``; the entry point names a callable
that returns one (here the class itself). It raises runner's ``InvalidInput`` with a hint when
it cannot give the value, and never puts the value in a message.
"""

from __future__ import annotations

import os
from typing import Any

from runner.errors import InvalidInput
from runner.secret_source import SecretRequest


class StaticSource:
    def __init__(self) -> None:
        self.calls = 0  # how many times runner asked (it caches: once per reference per run)

    def fetch(self, arg: Any, request: SecretRequest) -> str:
        self.calls += 1
        table = dict(pair.split("=", 1) for pair in
                     filter(None, os.environ.get("STATIC_SECRETS", "").split(",")))
        if not isinstance(arg, str) or arg not in table:
            raise InvalidInput(f"static secret {arg!r} (for {request.what}) is not in the table",
                               hint="add NAME=value to $STATIC_SECRETS")
        return table[arg]

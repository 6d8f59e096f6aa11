"""The Python hooks a connector may add to its ``connector.yaml``.

Subclass :class:`Hooks` and override what the vendor needs; the defaults do nothing. Hooks are
created once per connector per run and must be thread-safe (loop iterations share them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.connectors.http import PreparedCall
    from runner.connectors.response import Response


class Hooks:
    def __init__(self, settings: dict[str, Any], register_secret: Any) -> None:
        self.settings = settings
        self.register_secret = register_secret

    def prepare(self, call: PreparedCall) -> None:
        """Change a request before it is sent (sign it, add a computed parameter)."""

    def decode(self, response: Response) -> None:
        """Change a response before anything reads it (decompress, unwrap)."""

    def vendor_error(self, response: Response) -> str | None:
        """The vendor's error message when an answer is an error the status code hides."""
        return None

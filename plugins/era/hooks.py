"""ERA hooks: what ``connector.yaml`` can't say.

A channel's ``token_remote`` / ``token_remote2`` is a credential of the remote system (a bot's
token, say). A playbook that sends one passes it as a secret parameter, but answers also carry
the tokens of channels the run never set (a list, a GET before a rotation), and reports record
answers. ``decode`` registers every such value it sees with the run's redactor, so no output
shows one. ``token_local`` stays visible: it is an identifier, not a secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runner.connectors import Hooks

if TYPE_CHECKING:
    from runner.connectors import Response

SECRET_FIELDS = frozenset({"token_remote", "token_remote2", "tokenremote", "tokenremote2"})
MAX_DEPTH = 8


class EraHooks(Hooks):
    def decode(self, response: Response) -> None:
        if not response.content.strip():
            return
        self._register(response.json, 0)

    def _register(self, data: Any, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        if isinstance(data, dict):
            for key, value in data.items():
                if key in SECRET_FIELDS and isinstance(value, str) and value:
                    self.register_secret(value)
                elif isinstance(value, dict | list):
                    self._register(value, depth + 1)
        elif isinstance(data, list):
            for item in data:
                self._register(item, depth + 1)

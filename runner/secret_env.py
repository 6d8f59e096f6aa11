"""The ``env`` secret source, what ``{secret: NAME}`` means: the environment variable NAME,
then the environment's secrets file (``secrets_file:``). A secrets file that does not exist is
no error while the variables are set: it is optional, as on a CI machine that exports them."""

from __future__ import annotations

import os
import re
from typing import Any

from runner.errors import InvalidInput
from runner.secret_source import SecretRequest

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class EnvSource:
    def fetch(self, arg: Any, request: SecretRequest) -> str:
        if not isinstance(arg, str) or not _NAME.match(arg):
            raise InvalidInput(f"{request.where + ': ' if request.where else ''}"
                               f"{{secret: {{env: ...}}}} (for {request.what}) needs a "
                               "variable name", hint="write {secret: NAME}, e.g. "
                               "{secret: AUTOMATOS_KEY}")
        value = os.environ.get(arg)
        if value is None and request.secrets_file is not None:
            values = request.read_secrets_file()
            found = None if values is None else values.get(arg)
            value = None if found is None else str(found)
        if value is None:
            raise InvalidInput(f"secret {arg} (for {request.what}) is not set",
                               hint=f"export {arg}=...{_or_file(arg, request)}")
        return value


def _or_file(name: str, request: SecretRequest) -> str:
    path = request.secrets_file
    if path is None:
        return ""
    if request.read_secrets_file() is None:
        encrypted = " (then encrypt it with age)" if path.suffix == ".age" else ""
        return f" or create {path} holding {name}: ...{encrypted}"
    return f" or add it to {path}"

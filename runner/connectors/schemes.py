"""The auth schemes a connector file may name under ``auth: {scheme: ...}``, by name.

Each is named by its home (``module:Class`` under ``runner.connectors``) and imported when a
connector uses it: digest and the token schemes are ~13 KB of source that a run on a bearer
token, basic or no auth would otherwise load, and without the bytecode cache compile, at every
start (issue 14; tests/connectors/test_wire.py checks what a plain run loads).
"""

from __future__ import annotations

import importlib
from typing import cast

from runner.connectors.auth import Auth

SCHEMES: dict[str, str] = {
    "none": "auth:NoAuth",
    "bearer": "auth:HeaderAuth",
    "api_key": "auth:HeaderAuth",
    "basic": "auth:BasicAuth",
    "digest": "digest_auth:DigestAuth",
    "token": "token_auth:LoginTokenAuth",
    "oauth2_client_credentials": "token_auth:OAuth2ClientCredentials",
    "signed": "auth:SignedAuth",
    "settings": "chosen_auth:ChosenAuth",
}


def scheme_class(home: str) -> type[Auth]:
    """The class a ``module:Class`` home (of :data:`SCHEMES`, or of a ``settings`` choice)
    names, its module imported now."""
    module, _, name = home.partition(":")
    return cast("type[Auth]", getattr(importlib.import_module(f"runner.connectors.{module}"),
                                      name))


def scheme(name: str) -> type[Auth]:
    """The class of the scheme ``name`` (a key of :data:`SCHEMES`)."""
    return scheme_class(SCHEMES[name])

"""The auth schemes a connector file may name under ``auth: {scheme: ...}``, by name."""

from __future__ import annotations

from runner.connectors.auth import Auth, BasicAuth, HeaderAuth, NoAuth, SignedAuth
from runner.connectors.chosen_auth import ChosenAuth
from runner.connectors.digest_auth import DigestAuth
from runner.connectors.token_auth import LoginTokenAuth, OAuth2ClientCredentials

SCHEMES: dict[str, type[Auth]] = {
    "none": NoAuth,
    "bearer": HeaderAuth,
    "api_key": HeaderAuth,
    "basic": BasicAuth,
    "digest": DigestAuth,
    "token": LoginTokenAuth,
    "oauth2_client_credentials": OAuth2ClientCredentials,
    "signed": SignedAuth,
    "settings": ChosenAuth,
}

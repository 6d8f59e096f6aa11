"""The auth schemes a connector file may name under ``auth: {scheme: ...}``, by name."""

from __future__ import annotations

from runner.connectors.auth import Auth, HeaderAuth, NoAuth, SignedAuth
from runner.connectors.token_auth import LoginTokenAuth, OAuth2ClientCredentials

SCHEMES: dict[str, type[Auth]] = {
    "none": NoAuth,
    "bearer": HeaderAuth,
    "api_key": HeaderAuth,
    "token": LoginTokenAuth,
    "oauth2_client_credentials": OAuth2ClientCredentials,
    "signed": SignedAuth,
}

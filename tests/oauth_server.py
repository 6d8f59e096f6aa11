"""A real OAuth2 client-credentials server built with authlib (its Flask integration) on a
cheroot server on loopback (tests/wsgi_servers.py): ``/token`` issues bearer tokens to one
client (``/login`` too, for the ``login`` scheme: a JSON login call that answers a token),
``/api/<rest>`` answers only a valid one (authlib's ResourceProtector: expired or revoked
tokens get 401).

The test reads what happened: ``issued`` (every token request, in order), ``revoke_all()``
(every live token refused from now on, as a server restart or a key rotation does).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import Flask, jsonify, request
from wsgi_servers import serving

CLIENT_ID, CLIENT_SECRET = "runner-ci", "s3cr3t-Client-Secret-4-OAuth"


class _Client(ClientMixin):
    def get_client_id(self) -> str:
        return CLIENT_ID

    def get_default_redirect_uri(self) -> str:
        return ""

    def get_allowed_scope(self, scope: str) -> str:
        return scope or ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, CLIENT_SECRET)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


@dataclass
class _Token(TokenMixin):
    access_token: str
    expires_at: float
    scope: str
    revoked: bool = False

    def check_client(self, client: Any) -> bool:
        return True

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int(self.expires_at - time.time())

    def is_expired(self) -> bool:
        return time.time() >= self.expires_at

    def is_revoked(self) -> bool:
        return self.revoked


@dataclass
class OAuthServer:
    url: str = ""
    expires_in: int = 3600
    issued: list[_Token] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def revoke_all(self) -> None:
        with self.lock:
            for t in self.issued:
                t.revoked = True

    def app(self) -> Flask:
        app = Flask("oauth")
        app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"client_credentials": self.expires_in}
        tokens: dict[str, _Token] = {}

        def save_token(token: dict[str, Any], req: Any) -> None:
            t = _Token(token["access_token"], time.time() + token["expires_in"],
                       token.get("scope", ""))
            with self.lock:
                tokens[t.access_token] = t
                self.issued.append(t)

        server = AuthorizationServer(app, query_client=lambda cid: _Client()
                                     if cid == CLIENT_ID else None, save_token=save_token)
        server.register_grant(grants.ClientCredentialsGrant)

        class Validator(BearerTokenValidator):  # type: ignore[misc]
            def authenticate_token(self, token_string: str) -> _Token | None:
                return tokens.get(token_string)

        protect = ResourceProtector()
        protect.register_token_validator(Validator())

        @app.post("/token")
        def token() -> Any:
            return server.create_token_response()

        @app.post("/login")
        def login() -> Any:  # the `login` scheme: a call that returns a token, no OAuth
            body = request.get_json(silent=True) or {}
            if (body.get("username"), body.get("password")) != (CLIENT_ID, CLIENT_SECRET):
                return jsonify(error="bad credentials"), 403
            save_token({"access_token": secrets.token_urlsafe(24),
                        "expires_in": self.expires_in}, None)
            with self.lock:
                issued = self.issued[-1]
            return jsonify(data={"jwt": issued.access_token, "ttl": self.expires_in})

        @app.route("/api/<path:rest>", methods=["GET", "POST"])
        @protect()
        def api(rest: str) -> Any:
            return jsonify(path=rest, args=request.args.to_dict())

        return app


@contextmanager
def oauth_server(expires_in: int = 3600) -> Iterator[OAuthServer]:
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # loopback http, not https
    s = OAuthServer(expires_in=expires_in)
    with serving(s.app()) as url:
        s.url = url
        yield s

"""Generic auth schemes. A connector file picks one under ``auth: {scheme: ...}``.

none                        nothing is added
bearer                      ``token`` (a template, usually a secret setting) as ``Authorization``
api_key                     ``header`` set to ``value`` (a template) on every call
token                       a login ``operation`` returns a token (``token``: JSONPath; optional
                            ``expires_in``: JSONPath); sent as ``header``/``format``; an optional
                            ``static`` setting, when set, is used instead of logging in
oauth2_client_credentials   form-urlencoded POST to ``token_url`` with HTTP Basic client id and
                            secret and extra ``form`` fields; ``expires_in`` honoured
signed                      the connector's hooks sign each request (MOR's SHA1 hash)

Tokens are cached per connector per run, renewed ``margin`` seconds before they expire, and
renewed once when a call is answered with a status in ``renew_on``; concurrent callers share one
renewal (a lock, and a check that the token is still the one that failed).
"""

from __future__ import annotations

import base64
import threading
import time
from typing import TYPE_CHECKING, Any

from runner.errors import VendorError
from runner.extract import ExtractError, Extractor

if TYPE_CHECKING:
    from runner.connectors.client import ConnectorClient
    from runner.connectors.http import PreparedCall
    from runner.connectors.response import Response


class Auth:
    renew_on: tuple[int, ...] = ()

    def __init__(self, conf: dict[str, Any], client: ConnectorClient):
        self.conf = conf
        self.client = client
        self.renew_on = tuple(conf.get("renew_on", self.renew_on))

    def apply(self, call: PreparedCall) -> Any:
        """Add credentials to ``call``; return what identifies them (for renewal checks)."""
        return None

    def obtain(self, *, force: bool = False) -> Response | None:
        """Get credentials now if the scheme has any to get; the login answer, if one was sent."""
        return None

    def renew(self, used: Any) -> bool:
        """Renew after a rejection; False when the scheme cannot renew."""
        return False


class NoAuth(Auth):
    pass


class HeaderAuth(Auth):
    """``bearer`` and ``api_key``: a header whose value comes from settings."""

    def apply(self, call: PreparedCall) -> Any:
        if self.conf["scheme"] == "bearer":
            token = self.client.render_setting(self.conf.get("token", "{{ settings.token }}"))
            self.client.redactor.add(token)
            call.headers[self.conf.get("header", "Authorization")] = f"Bearer {token}"
        else:
            value = self.client.render_setting(self.conf["value"])
            self.client.redactor.add(value)
            call.headers[self.conf.get("header", "X-API-Key")] = value
        return None


class _TokenAuth(Auth):
    renew_on = (401,)

    def __init__(self, conf: dict[str, Any], client: ConnectorClient):
        super().__init__(conf, client)
        self.token: str | None = None
        self.expires_at: float | None = None
        self.margin = float(conf.get("margin", 30))
        self.lock = threading.Lock()

    def _static(self) -> str | None:
        name = self.conf.get("static")
        value = self.client.settings.get(name) if name else None
        return str(value) if value else None

    def _valid(self) -> bool:
        if self.token is None:
            return False
        return self.expires_at is None or time.monotonic() < self.expires_at - self.margin

    def apply(self, call: PreparedCall) -> Any:
        static = self._static()
        if static:
            token = static
            self.client.redactor.add(token)
        else:
            with self.lock:
                if not self._valid():
                    self._login()
                token = self.token  # type: ignore[assignment]
        fmt = self.conf.get("format", "Bearer {token}")
        call.headers[self.conf.get("header", "Authorization")] = fmt.format(token=token)
        return token

    def obtain(self, *, force: bool = False) -> Response | None:
        if self._static():
            return None
        with self.lock:
            if force or not self._valid():
                return self._login()
        return None

    def renew(self, used: Any) -> bool:
        if self._static():
            return False
        with self.lock:
            if self.token == used:  # nobody renewed since this token failed
                self._login()
        return True

    def _set(self, token: Any, expires_in: Any, response: Response) -> None:
        if response.error is not None:
            raise VendorError(f"{self.client.alias}: login refused: {response.error}",
                              status=response.status_code,
                              hint="check the credentials in the environment file")
        if not isinstance(token, str) or not token:
            raise VendorError(f"{self.client.alias}: the login answer carries no token",
                              status=response.status_code)
        self.client.redactor.add(token)
        self.token = token
        try:
            self.expires_at = time.monotonic() + float(expires_in) if expires_in else None
        except (TypeError, ValueError):
            self.expires_at = None

    def _login(self) -> Response:
        raise NotImplementedError


class LoginTokenAuth(_TokenAuth):
    """``token``: a login operation of the connector itself returns the token."""

    def _login(self) -> Response:
        call = self.client.prepare(self.conf["operation"], {})
        response = self.client.send(call, with_auth=False)
        self.client.last_login = (call, response)
        try:
            token = Extractor("jsonpath", self.conf.get("token", "$.token")).apply(response)
            expires = None
            if self.conf.get("expires_in"):
                expires = Extractor("jsonpath", self.conf["expires_in"], default=None).apply(
                    response)
        except ExtractError:
            token, expires = None, None
        self._set(token, expires or self.conf.get("ttl"), response)
        return response


class OAuth2ClientCredentials(_TokenAuth):
    def _login(self) -> Response:
        from runner.connectors.http import PreparedCall

        c = self.client
        client_id = str(c.render_setting(self.conf.get("client_id", "{{ settings.client_id }}")))
        secret = str(c.render_setting(self.conf.get("client_secret",
                                                    "{{ settings.client_secret }}")))
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        c.redactor.add(secret)
        c.redactor.add(basic)
        form = {k: c.render_setting(v) for k, v in (self.conf.get("form") or {}).items()}
        call = PreparedCall(
            connector=c.alias, operation="(token)", method="POST",
            url=str(c.render_setting(self.conf["token_url"])),
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
            form={"grant_type": "client_credentials", **form}, safe=True, needs_auth=False,
            decode="json",
        )
        response = c.send(call, with_auth=False)
        c.last_login = (call, response)
        body = response.json if isinstance(response.json, dict) else {}
        self._set(body.get("access_token"), body.get("expires_in"), response)
        return response


class SignedAuth(Auth):
    """The connector's hooks sign each request; nothing to obtain."""


SCHEMES: dict[str, type[Auth]] = {
    "none": NoAuth,
    "bearer": HeaderAuth,
    "api_key": HeaderAuth,
    "token": LoginTokenAuth,
    "oauth2_client_credentials": OAuth2ClientCredentials,
    "signed": SignedAuth,
}

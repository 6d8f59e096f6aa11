"""The schemes that log in for a token, as flows (:mod:`runner.connectors.auth`).

token                       a login ``operation`` returns a token (``token``: JSONPath; optional
                            ``expires_in``: JSONPath); sent as ``header``/``format``; an optional
                            ``static`` setting, when set, is used instead of logging in
oauth2_client_credentials   form-urlencoded POST to ``token_url`` with HTTP Basic client id and
                            secret and extra ``form`` fields; ``expires_in`` honoured

Tokens are cached per connector per run, renewed ``margin`` seconds before they expire (at
most a tenth of the token's lifetime: a 3 s token is reused for 2.7 s, not fetched again for
every call because 3 s is under a 30 s margin), and renewed once when a call is answered with
a status in ``renew_on``; concurrent callers share one renewal: the lock is held across the
yielded login (the client drives a flow in the caller's thread, to its end or to ``close()``),
and a token is renewed only if it is still the one that failed.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

from runner.connectors.auth import Auth, AuthContext, AuthFlow
from runner.connectors.http import PreparedCall
from runner.errors import RunnerError, VendorError
from runner.extract_error import ExtractError
from runner.jsonpath import jsonpath_values

if TYPE_CHECKING:
    from runner.connectors.response import Response


MARGIN_SHARE = 0.1  # the renewal margin is at most this share of a token's lifetime


class _TokenAuth(Auth):
    renew_on = (401,)

    def __init__(self, conf: Mapping[str, Any], ctx: AuthContext) -> None:
        super().__init__(conf, ctx)
        self.token: str | None = None
        self.expires_at: float | None = None
        self.renew_at: float | None = None  # expires_at less the margin that lifetime allows
        self.margin = float(conf.get("margin", 30))
        self.lock = threading.Lock()

    def _static(self) -> str | None:
        name = self.conf.get("static")
        value = self.ctx.settings.get(name) if name else None
        return str(value) if value else None

    def _valid(self) -> bool:
        if self.token is None:
            return False
        return self.renew_at is None or time.monotonic() < self.renew_at

    def flow(self, call: PreparedCall) -> AuthFlow:
        static = self._static()
        if static:
            self.ctx.secret(static)
            self._put(call, static)
            yield call  # a static token is not renewed: the answer stands
            return
        with self.lock:  # inline, not _current(): this is every call's path
            if not self._valid():
                yield from self._login()
            used = self.token
        assert used is not None  # _set raised otherwise
        self._put(call, used)
        response = yield call
        if response.status_code not in self.renew_on:
            return
        # the server refused the credentials before acting: renew once and repeat
        with self.lock:
            if self.token == used:  # nobody renewed since this token failed
                yield from self._login()
        self._put(call, (yield from self._current()))
        yield call

    def login_flow(self, *, force: bool = False) -> AuthFlow:
        if self._static():
            return
        with self.lock:
            if force or not self._valid():
                yield from self._login()

    def _current(self) -> Generator[PreparedCall, Response, str]:
        """The valid token, logging in first when there is none."""
        with self.lock:
            if not self._valid():
                yield from self._login()
            assert self.token is not None  # _set raised otherwise
            return self.token

    def _put(self, call: PreparedCall, token: str) -> None:
        fmt = self.conf.get("format", "Bearer {token}")
        call.headers[self.conf.get("header", "Authorization")] = fmt.format(token=token)

    def _set(self, token: Any, expires_in: Any, response: Response) -> None:
        if response.error is not None:
            raise VendorError(f"{self.ctx.alias}: login refused: {response.error}",
                              status=response.status_code,
                              hint="check the credentials in the environment file")
        if not isinstance(token, str) or not token:
            raise VendorError(f"{self.ctx.alias}: the login answer carries no token",
                              status=response.status_code)
        self.ctx.secret(token)
        self.token = token
        try:
            lifetime = float(expires_in) if expires_in else None
        except (TypeError, ValueError):
            lifetime = None
        now = time.monotonic()
        self.expires_at = now + lifetime if lifetime is not None else None
        self.renew_at = now + lifetime - min(self.margin, lifetime * MARGIN_SHARE) \
            if lifetime is not None else None

    def _login(self) -> AuthFlow:
        """Yield the login request, read the token out of its answer (``_set``)."""
        raise NotImplementedError


class LoginTokenAuth(_TokenAuth):
    """``token``: a login operation of the connector itself returns the token."""

    _login_at: tuple[str, str] | None = None  # the login's method and URL (no query)

    def answered(self, call: PreparedCall, response: Response) -> None:
        """A login the playbook sent itself (``call: auto.auth``, or a raw POST to the login's
        URL): the token in its answer is registered as the flow's own would be, before the
        answer reaches the console, the reports, the journal or the store."""
        if response.status_code >= 400 or response.error is not None:
            return
        if call.operation != self.conf["operation"] and (
                call.operation or call.method != "POST" or not self._is_login_url(call.url)):
            return
        try:
            token = _one(self.conf.get("token", "$.token"), response)
        except ExtractError:
            return
        if isinstance(token, str) and token:
            self.ctx.secret(token)

    def _is_login_url(self, url: str) -> bool:
        if self._login_at is None:
            try:
                login = self.ctx.operation(self.conf["operation"])
            except RunnerError:  # a login that cannot be built now: no raw call is it
                return False
            self._login_at = (login.method, login.url.partition("?")[0])
        return self._login_at == ("POST", url.partition("?")[0])

    def _login(self) -> AuthFlow:
        response = yield self.ctx.operation(self.conf["operation"])
        try:
            token = _one(self.conf.get("token", "$.token"), response)
            expires = None
            if self.conf.get("expires_in"):
                expires = _one(self.conf["expires_in"], response, required=False)
        except ExtractError:
            token, expires = None, None
        self._set(token, expires or self.conf.get("ttl"), response)


class OAuth2ClientCredentials(_TokenAuth):
    def _login(self) -> AuthFlow:
        render = self.ctx.render
        client_id = str(render(self.conf.get("client_id", "{{ settings.client_id }}")))
        secret = str(render(self.conf.get("client_secret", "{{ settings.client_secret }}")))
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self.ctx.secret(secret)
        self.ctx.secret(basic)
        form = {k: render(v) for k, v in (self.conf.get("form") or {}).items()}
        response = yield PreparedCall(
            connector=self.ctx.alias, operation="(token)", method="POST",
            url=str(render(self.conf["token_url"])),
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
            form={"grant_type": "client_credentials", **form}, safe=True, needs_auth=False,
            decode="json",
        )
        body = response.json if isinstance(response.json, dict) else {}
        self._set(body.get("access_token"), body.get("expires_in"), response)


def _one(path: str, response: Response, *, required: bool = True) -> Any:
    """The one value JSONPath ``path`` finds in the login answer, as a playbook's ``extract:``
    reads it (a body that is not JSON is read as its text); no value is None when not
    ``required``, and no value or several raise ExtractError."""
    data = response.json
    if data is None and not response.content.strip().startswith(b"null"):
        data = response.body
    found = jsonpath_values(path, data)
    if len(found) == 1:
        return found[0]
    if not found and not required:
        return None
    raise ExtractError(f"jsonpath {path!r} matched {len(found)} values, expected one")

"""Alvaria Cloud AutoFacilitate simulator: token service and API on one port.

Faithful to ``alvaria-autofacilitate-api.txt`` and NOTES.md:

- ``POST /tokenservice/oauth2/access_token``: form-urlencoded ``grant_type=client_credentials``,
  ``scope=autofacilitateapi``, ``realm={orgId}``, client id/secret as HTTP Basic. Answers
  ``{access_token: uuid4, scope, token_type: "Bearer", expires_in: token_ttl}``; OAuth2 errors
  ``{error, error_description}``: 400 invalid_request (not form-encoded, e.g. JSON; missing
  grant_type; wrong realm), 401 invalid_client, 400 unsupported_grant_type, 400 invalid_scope.
- ``POST /via/v2/organizations/{orgId}/autoFacilitate/execute/{vsn}`` -> 200
  ``{"message": "Successfully triggered {vsn}@{orgId}", "triggerUUID": "<uuid4>"}``.
- ``GET .../autoFacilitate/result/{vsn}/triggerUUID/{uuid}`` -> 204, no body, once finished.
- Errors are ErrorResponse ``{code: "<status>", message, errors: [{scope, reason, message}]}``
  (code is a string, as in the doc's example, although the schema says integer).

Seeded services: WelcomeService, ResetPassword (run ``run_seconds``, default 1 s), SlowService
(``service_seconds`` override, default 5 s), BrokenService (execute always answers 500).

Choices where the docs are silent:
- A bad/expired/missing bearer token AND a missing/wrong ``x-api-key`` both answer 401 with an
  empty body (the doc: 401 schema None); 403 is not documented.
- Checks run in order: auth, orgId (404), vsn (404), body (400), non-string parameter value
  (422), ``channel`` not in voice/sms/email/chat (400, the doc's example), BrokenService (500).
- Body must be a JSON object (XML is not simulated: 400 Validation exception).
- Result before the trigger finished: 404 "Dialog Id not found on the cluster" with
  errors[0].reason "Trigger not finished"; unknown trigger or a trigger of another service: 404,
  reason "Unknown trigger". The real answer before completion is not public.
- Client credentials are accepted only through HTTP Basic, not in the form body.
- Callback body: ``{triggerUUID, vsn, status: "completed", result: {triggerParameters}}``, POSTed
  (JSON, 2 s timeout, no proxy) when the trigger finishes, only to loopback hosts; other URLs
  are recorded as skipped. Sent by a ``threading.Timer`` per trigger (real time) or by
  ``deliver_due_callbacks()`` (fake clock). Deliveries land in ``callbacks_sent``.
"""

from __future__ import annotations

import base64
import json
import secrets
import shlex
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit

from runner.connectors import Faults, Reply, Request, Simulator, json_reply, route

DEFAULT_SERVICES = {"WelcomeService", "ResetPassword", "SlowService", "BrokenService"}
CHANNELS = {"voice", "sms", "email", "chat"}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SCOPE = "autofacilitateapi"
TOKEN_PATH = "/tokenservice/oauth2/access_token"
API = r"/via/v2/organizations/(?P<org>[^/]+)/autoFacilitate"
NOT_FOUND = "Dialog Id not found on the cluster"


def _oauth_error(status: int, error: str, description: str) -> Reply:
    return json_reply(status, {"error": error, "error_description": description},
                      {"Cache-Control": "no-store", "Pragma": "no-cache"})


def _error(status: int, message: str, reason: str, detail: str) -> Reply:
    return json_reply(status, {"code": str(status), "message": message,
                               "errors": [{"scope": "global", "reason": reason,
                                           "message": detail}]})


def _invalid(detail: str) -> Reply:
    return _error(400, "Validation exception", "Invalid request", detail)


def _unauthorized() -> Reply:
    return Reply(401, b"", {})


@dataclass
class Trigger:
    """A service trigger the simulator received, and where its result is POSTed."""
    uuid: str
    vsn: str
    parameters: dict[str, str]
    callback_urls: list[str]
    done_at: float
    delivered: bool = False
    timer: threading.Timer | None = field(default=None, repr=False)


class AlvariaSimulator(Simulator):
    name = "alvaria"
    prefix = ""

    def __init__(
        self,
        *,
        org_id: str = "acmecorp",
        client_id: str | None = None,
        client_secret: str | None = None,
        api_key: str | None = None,
        token_ttl: float = 3599,
        run_seconds: float = 1.0,
        service_seconds: dict[str, float] | None = None,
        services: set[str] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.org_id = org_id
        self.client_id = client_id or f"{org_id}_" + secrets.token_hex(8)
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.api_key = api_key or secrets.token_urlsafe(30)
        self.token_ttl = token_ttl
        self.run_seconds = run_seconds
        self.service_seconds = ({"SlowService": 5.0} if service_seconds is None
                                else dict(service_seconds))
        self.services = set(DEFAULT_SERVICES if services is None else services)
        self.tokens: dict[str, float] = {}  # token -> expiry (clock time)
        self.triggers: dict[str, Trigger] = {}
        self.callbacks_sent: list[tuple[str, int | str]] = []

    def connector_settings(self) -> dict[str, Any]:
        return {
            "base_url": self.url,
            "token_url": self.url + TOKEN_PATH,
            "org_id": self.org_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "api_key": self.api_key,
        }

    def secret_values(self) -> list[str]:
        with self.lock:
            return [self.client_secret, self.api_key, *self.tokens]

    def example_request(self) -> str:
        # the token; it then goes as "Authorization: Bearer <token>" with "x-api-key"
        return shlex.join(["curl", "-u", f"{self.client_id}:{self.client_secret}",
                           "-d", "grant_type=client_credentials", "-d", "scope=autofacilitateapi",
                           "-d", f"realm={self.org_id}", self.url + TOKEN_PATH])

    def expire_tokens(self) -> None:
        """Make every issued token expired (tests of renewal on 401)."""
        with self.lock:
            for t in self.tokens:
                self.tokens[t] = float("-inf")

    def stop(self) -> None:
        with self.lock:
            timers = [t.timer for t in self.triggers.values() if t.timer is not None]
        for timer in timers:
            timer.cancel()
        super().stop()

    # -- callbacks ---------------------------------------------------------------------
    def deliver_due_callbacks(self) -> list[tuple[str, int | str]]:
        """POST the callbacks of every finished, not yet delivered trigger; return them."""
        now = self.clock()
        with self.lock:
            due = [t for t in self.triggers.values() if not t.delivered and now >= t.done_at]
            for t in due:
                t.delivered = True
        sent: list[tuple[str, int | str]] = []
        for trig in due:
            body = json.dumps({"triggerUUID": trig.uuid, "vsn": trig.vsn, "status": "completed",
                               "result": {"triggerParameters": trig.parameters}}).encode()
            for url in trig.callback_urls:
                sent.append((url, self._post_callback(url, body)))
        with self.lock:
            self.callbacks_sent.extend(sent)
        return sent

    @staticmethod
    def _post_callback(url: str, body: bytes) -> int | str:
        split = urlsplit(url)
        if split.scheme not in ("http", "https") or split.hostname not in LOOPBACK:
            return "skipped: not a loopback URL"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with opener.open(req, timeout=2) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as e:
            return int(e.code)
        except (OSError, ValueError) as e:
            return f"error: {e}"

    def _on_timer(self, trigger_id: str) -> None:
        with self.lock:
            trig = self.triggers.get(trigger_id)
        if trig is None or self._server is None:
            return
        remaining = trig.done_at - self.clock()
        if 0 < remaining < 0.5:  # the timer woke a hair early: try once more
            timer = threading.Timer(remaining + 0.01, self.deliver_due_callbacks)
            timer.daemon = True
            trig.timer = timer
            timer.start()
            return
        self.deliver_due_callbacks()

    # -- helpers -----------------------------------------------------------------------
    def _authorized(self, req: Request) -> bool:
        token = req.bearer()
        with self.lock:
            expiry = self.tokens.get(token or "")
        if expiry is None or self.clock() >= expiry:
            return False
        return secrets.compare_digest(req.headers.get("x-api-key", ""), self.api_key)

    def _check_target(self, req: Request) -> tuple[str, Reply | None]:
        org, vsn = unquote(req.params["org"]), unquote(req.params["vsn"])
        if org != self.org_id:
            return vsn, _error(404, NOT_FOUND, "Not found", f"Organization {org} not found")
        if vsn not in self.services:
            return vsn, _error(404, NOT_FOUND, "Not found", f"Service {vsn} not found")
        return vsn, None

    # -- routes ------------------------------------------------------------------------
    @route("POST", TOKEN_PATH, "token")
    def token(self, req: Request) -> Reply:
        ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return _oauth_error(400, "invalid_request",
                                "The request body must be application/x-www-form-urlencoded")
        form = req.form()
        client_id = secret = ""
        auth = req.headers.get("authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
                client_id, _, secret = (unquote_plus(p) for p in decoded.partition(":"))
            except ValueError:
                pass
        if not (secrets.compare_digest(client_id, self.client_id)
                and secrets.compare_digest(secret, self.client_secret)):
            reply = _oauth_error(401, "invalid_client", "Client authentication failed")
            reply.headers["WWW-Authenticate"] = 'Basic realm="tokenservice"'
            return reply
        grant = form.get("grant_type")
        if not grant:
            return _oauth_error(400, "invalid_request", "Missing grant_type parameter")
        if grant != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type",
                                f"Grant type {grant} is not supported")
        if SCOPE not in form.get("scope", "").split():
            return _oauth_error(400, "invalid_scope", "The requested scope is invalid")
        if form.get("realm") != self.org_id:
            return _oauth_error(400, "invalid_request", "Invalid or missing realm")
        token = str(uuid.uuid4())
        with self.lock:
            self.tokens[token] = self.clock() + self.token_ttl
        return json_reply(200, {"access_token": token, "scope": SCOPE, "token_type": "Bearer",
                                "expires_in": int(self.token_ttl)},
                          {"Cache-Control": "no-store", "Pragma": "no-cache"})

    @route("POST", API + r"/execute/(?P<vsn>[^/]+)", "execute")
    def execute(self, req: Request) -> Reply:
        if not self._authorized(req):
            return _unauthorized()
        vsn, problem = self._check_target(req)
        if problem:
            return problem
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            return _invalid("The request body must be a JSON object")
        if not isinstance(body, dict):
            return _invalid("The request body must be a JSON object")
        params = body.get("triggerParameters", {})
        urls = body.get("callbackUrls", [])
        if params is None:
            params = {}
        if urls is None:
            urls = []
        if not isinstance(params, dict):
            return _invalid("triggerParameters must be an object")
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            return _invalid("callbackUrls must be a list of strings")
        for key, value in params.items():
            if not isinstance(value, str):
                return _error(422, "Unprocessable Entity", "Invalid parameter",
                              f"The value for {key} must be a string")
        if "channel" in params and params["channel"] not in CHANNELS:
            return _invalid("The value for the channel is invalid")
        if vsn == "BrokenService":
            return _error(500, "Internal server error", "Internal error",
                          f"Service {vsn} failed to start")
        run = self.service_seconds.get(vsn, self.run_seconds)
        trig = Trigger(str(uuid.uuid4()), vsn, dict(params), list(urls), self.clock() + run)
        with self.lock:
            self.triggers[trig.uuid] = trig
        if trig.callback_urls:
            trig.timer = threading.Timer(run, self._on_timer, args=(trig.uuid,))
            trig.timer.daemon = True
            trig.timer.start()
        return json_reply(200, {"message": f"Successfully triggered {vsn}@{self.org_id}",
                                "triggerUUID": trig.uuid})

    @route("GET", API + r"/result/(?P<vsn>[^/]+)/triggerUUID/(?P<trigger>[^/]+)", "result")
    def result(self, req: Request) -> Reply:
        if not self._authorized(req):
            return _unauthorized()
        vsn, problem = self._check_target(req)
        if problem:
            return problem
        trigger_id = unquote(req.params["trigger"])
        with self.lock:
            trig = self.triggers.get(trigger_id)
        if trig is None or trig.vsn != vsn:
            return _error(404, NOT_FOUND, "Unknown trigger",
                          f"Trigger {trigger_id} not found for service {vsn}")
        if self.clock() < trig.done_at:
            return _error(404, NOT_FOUND, "Trigger not finished",
                          f"Trigger {trigger_id} has not finished yet")
        return Reply(204, b"", {})


def make(**options: Any) -> AlvariaSimulator:
    faults = options.pop("faults", None)
    return AlvariaSimulator(faults=Faults(**faults) if isinstance(faults, dict) else faults,
                            **options)

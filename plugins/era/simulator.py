"""ERA platform (Incoplax / Oktell Studio) REST API simulator: integration channels.

Faithful to ``integration-points-api.txt`` and NOTES.md: ``/rest/v1/service/integration_points``
with POST (create, 200 + echo), GET list, GET/PATCH/DELETE item and the non-standard ``LOOKUP``
verb (body: a JSON string key -> 200 list of ids, or 404 ``Lookup failed``). ``LOOKUP`` is generic:
``/rest/v1/service/svcscripts`` answers it too (key fields id, code). Errors are
``{"error_code": 1400|1401|1404|1405|1409, "error_message": ...}``.

Seeded channels (the doc's examples, in this order):
  b4680fbe-016c-d86f-1d6b-50e54938780c  code ABCDE type public,   token_local 82ddc7c6...2f8d
  a188288e-016c-d86f-cd99-50e54938780c  code 902   type telegram, token_local 0f4c1e5a...8e2b
Seeded service scripts: ws_hook, send_to_web.
Options: api_token (random), wall_clock (epoch seconds, for ext.ct/lwt), channels, svcscripts.

Our choices where the docs are silent:
- auth: static ``Authorization: Bearer <api_token>`` on every route; else 401 error_code 1401;
- create: ``code`` and ``type`` required; type in public/telegram/im/webhook; id and code unique
  (409 error_code 1409); client token_local/tokenlocal and ext ignored; unknown top-level fields
  dropped (extra opts keys kept); field types checked (400); Content-Type not checked;
- PATCH: any id/token_local/tokenlocal key -> 400 "Field '<f>' can't be modified"; opts merged
  shallowly; ext ignored; 409 for a code taken by another channel;
- filter: JSON object of equalities, dotted keys (``opts.title``); unknown field -> 400;
- mask: comma list, tokenlocal/token_local spellings, ``opts`` or ``opts.title``; unknown -> 400;
- order: JSON array of names (``-code`` = desc) or ``{"code": "desc"}`` objects, or a plain
  comma list ``code,-ext.ct``; default is creation order;
- flat: true/1/false/0; true -> composite fields as dotted keys; offset/limit ints >= 0;
- unknown paths 404 error_code 1404, wrong verb 405 error_code 1405 (base routing).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
import secrets
import shlex
import time
import uuid
from collections.abc import Callable
from typing import Any

from runner.connectors import Faults, Reply, Request, Simulator, json_reply, route

TYPES = ("public", "telegram", "im", "webhook")
STR_FIELDS = ("code", "type", "token_remote", "token_remote2", "url", "recv_svcscriptcode",
              "recv_svcscriptcode_ws", "send_svcscriptcode", "send_svcscriptcode_ws")
ALIASES = {"tokenlocal": "token_local", "tokenremote": "token_remote",
           "tokenremote2": "token_remote2"}
NULL_UUID = "00000000-0000-0000-0000-000000000000"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
OPTS_DEFAULT: dict[str, Any] = {"title": "", "comment": "", "allow_files_api": False,
                                "issync": False, "recv_timeout": 0, "roles": [],
                                "userid": NULL_UUID}
OPT_TYPES: dict[str, type] = {"title": str, "comment": str, "allow_files_api": bool,
                              "issync": bool, "recv_timeout": int, "roles": list, "userid": str}
_SEED_COMMON = {"token_remote": "", "token_remote2": "", "url": "http://trapper.com",
                "recv_svcscriptcode": "ws_hook", "recv_svcscriptcode_ws": "",
                "send_svcscriptcode": "send_to_web", "send_svcscriptcode_ws": ""}
DEFAULT_CHANNELS: list[dict[str, Any]] = [
    {"id": "b4680fbe-016c-d86f-1d6b-50e54938780c", "code": "ABCDE", "type": "public",
     "token_local": "82ddc7c68623726346a78371173e2f8d", **_SEED_COMMON,
     "opts": dict(OPTS_DEFAULT),
     "ext": {"ct": "2019-08-28T13:34:16.42Z", "lwt": "2019-08-28T13:34:16.42Z"}},
    {"id": "a188288e-016c-d86f-cd99-50e54938780c", "code": "902", "type": "telegram",
     "token_local": "0f4c1e5a9b7d3c2e6a8f1b0d4e7c8e2b", **_SEED_COMMON,
     "opts": dict(OPTS_DEFAULT),
     "ext": {"ct": "2019-08-28T13:35:01.52Z", "lwt": "2019-08-28T13:35:01.52Z"}},
]
DEFAULT_SVCSCRIPTS: list[dict[str, Any]] = [
    {"id": "5d1b2e3a-016c-d86f-0a11-50e54938780c", "code": "ws_hook", "name": "Webhook receiver"},
    {"id": "6e2c3f4b-016c-d86f-0b22-50e54938780c", "code": "send_to_web", "name": "Send to web"},
]


class BadRequest(Exception):
    pass


def _error(status: int, message: str) -> Reply:
    return json_reply(status, {"error_code": 1000 + status, "error_message": message})


def _stamp(wall: float) -> str:
    t = dt.datetime.fromtimestamp(wall, dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 10000:02d}Z"


def _flatten(entity: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in entity.items():
        out.update({f"{k}.{sk}": sv for sk, sv in v.items()} if isinstance(v, dict) else {k: v})
    return out


def _unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in flat.items():
        head, _, sub = k.partition(".")
        if sub:
            out.setdefault(head, {})[sub] = v
        else:
            out[k] = v
    return out


def _field(name: str) -> str:
    name = name.strip()
    return ALIASES.get(name, name)


def _value(entity: dict[str, Any], name: str) -> Any:
    """The value of a (possibly dotted) field; BadRequest when the field does not exist."""
    flat = _flatten(entity)
    if name in flat:
        return flat[name]
    if isinstance(entity.get(name), dict):
        return entity[name]
    raise BadRequest(f"Unknown field '{name}'")


def _sort_key(name: str, entity: dict[str, Any]) -> tuple[int, Any]:
    v = _value(entity, name)
    if v is None:
        return (2, "")
    if isinstance(v, int | float):
        return (0, v)
    return (1, v if isinstance(v, str) else json.dumps(v))


def _parse_order(raw: str) -> list[tuple[str, bool]]:
    """[(field, descending)] from a JSON array or a plain comma list."""
    try:
        items = json.loads(raw)
    except ValueError:
        items = [p for p in raw.split(",") if p.strip()]
    if isinstance(items, str | dict):
        items = [items]
    if not isinstance(items, list):
        raise BadRequest("Invalid order")
    keys: list[tuple[str, bool]] = []
    for item in items:
        if isinstance(item, str):
            item = item.strip()
            keys.append((_field(item.lstrip("-")), item.startswith("-")))
        elif isinstance(item, dict) and item:
            for k, d in item.items():
                if str(d).lower() not in ("asc", "desc"):
                    raise BadRequest("Invalid order")
                keys.append((_field(k), str(d).lower() == "desc"))
        else:
            raise BadRequest("Invalid order")
    return keys


def _validate(body: dict[str, Any]) -> None:
    for f in STR_FIELDS:
        if f in body and not isinstance(body[f], str):
            raise BadRequest(f"Invalid value of field '{f}'")
    if "type" in body and body["type"] not in TYPES:
        raise BadRequest("Invalid value of field 'type'")
    opts = body.get("opts", {})
    if not isinstance(opts, dict):
        raise BadRequest("Invalid value of field 'opts'")
    for k, t in OPT_TYPES.items():
        v = opts.get(k, OPTS_DEFAULT[k])
        if (not isinstance(v, t) or (t is int and isinstance(v, bool))
                or (k == "userid" and not UUID_RE.match(str(v)))):
            raise BadRequest(f"Invalid value of field 'opts.{k}'")


class EraSimulator(Simulator):
    name = "era"
    prefix = ""
    collection = "/rest/v1/service/integration_points"

    def __init__(
        self,
        *,
        api_token: str | None = None,
        wall_clock: Callable[[], float] = time.time,
        channels: list[dict[str, Any]] | None = None,
        svcscripts: list[dict[str, Any]] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.api_token = api_token or secrets.token_hex(24)
        self.wall_clock = wall_clock
        seed = DEFAULT_CHANNELS if channels is None else channels
        self.channels: dict[str, dict[str, Any]] = {c["id"]: copy.deepcopy(c) for c in seed}
        self.svcscripts = copy.deepcopy(DEFAULT_SVCSCRIPTS if svcscripts is None else svcscripts)

    def connector_settings(self) -> dict[str, Any]:
        return {"base_url": self.url, "api_token": self.api_token}

    def secret_values(self) -> list[str]:
        return [self.api_token]

    def example_request(self) -> str:
        return shlex.join(["curl", "-H", f"Authorization: Bearer {self.api_token}",
                           self.url + "/rest/v1/service/integration_points"])

    # -- helpers -----------------------------------------------------------------------
    def not_found(self, req: Request) -> Reply:
        return _error(404, "Not found")

    def not_allowed(self, req: Request) -> Reply:
        return _error(405, "Method not allowed")

    def _denied(self, req: Request) -> Reply | None:
        if req.bearer() != self.api_token:
            return _error(401, "Unauthorized")
        return None

    def _body_object(self, req: Request) -> dict[str, Any]:
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("Invalid JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("Request body must be a JSON object")
        return body

    def _render(self, entity: dict[str, Any], req: Request) -> dict[str, Any]:
        flag = req.query.get("flat", "false").strip().lower()
        if flag not in ("true", "1", "false", "0", ""):
            raise BadRequest("Invalid flat")
        flat = _flatten(entity)
        mask = req.query.get("mask", "").strip()
        if mask:
            wanted = [_field(m) for m in mask.split(",") if m.strip()]
            for name in wanted:
                _value(entity, name)  # unknown -> 400
            flat = {k: v for k, v in flat.items()
                    if k in wanted or k.partition(".")[0] in wanted}
        return flat if flag in ("true", "1") else _unflatten(flat)

    def _code_taken(self, code: str, own_id: str | None) -> bool:
        return any(c["code"] == code and i != own_id for i, c in self.channels.items())

    def _lookup(self, req: Request, items: list[dict[str, Any]], keys: tuple[str, ...]) -> Reply:
        if denied := self._denied(req):
            return denied
        try:
            key = req.json()
        except (ValueError, UnicodeDecodeError):
            key = None
        if not isinstance(key, str):
            return _error(400, "Lookup key must be a JSON string")
        ids = [it["id"] for it in items if any(it.get(k) == key for k in keys)]
        return json_reply(200, ids) if ids else _error(404, "Lookup failed")

    # -- routes ------------------------------------------------------------------------
    @route("POST", collection, "create")
    def create(self, req: Request) -> Reply:
        if denied := self._denied(req):
            return denied
        try:
            body = self._body_object(req)
            _validate(body)
            for f in ("code", "type"):
                if not body.get(f):
                    raise BadRequest(f"Field '{f}' is required")
            cid = body.get("id", str(uuid.uuid4()))
            if not isinstance(cid, str) or not cid:
                raise BadRequest("Invalid value of field 'id'")
        except BadRequest as e:
            return _error(400, str(e))
        now = _stamp(self.wall_clock())
        entity: dict[str, Any] = {"id": cid, "code": body["code"], "type": body["type"],
                                  "token_local": secrets.token_hex(16)}
        for f in STR_FIELDS[2:]:
            entity[f] = body.get(f, "")
        entity["opts"] = {**copy.deepcopy(OPTS_DEFAULT), **body.get("opts", {})}
        entity["ext"] = {"ct": now, "lwt": now}
        with self.lock:
            if cid in self.channels:
                return _error(409, f"Integration point with id '{cid}' already exists")
            if self._code_taken(entity["code"], None):
                return _error(409, f"Integration point with code '{entity['code']}' already exists")
            self.channels[cid] = entity
            return json_reply(200, copy.deepcopy(entity))

    @route("GET", collection, "list")
    def list_channels(self, req: Request) -> Reply:
        if denied := self._denied(req):
            return denied
        try:
            try:
                flt = json.loads(req.query.get("filter") or "{}")
            except ValueError:
                raise BadRequest("Invalid filter") from None
            if not isinstance(flt, dict):
                raise BadRequest("Invalid filter")
            try:
                offset = int(req.query.get("offset") or 0)
                limit = int(req.query["limit"]) if req.query.get("limit") else None
            except ValueError:
                raise BadRequest("Invalid offset or limit") from None
            if offset < 0 or (limit is not None and limit < 0):
                raise BadRequest("Invalid offset or limit")
            order = _parse_order(req.query.get("order", ""))
            with self.lock:
                items = [copy.deepcopy(c) for c in self.channels.values()]
            items = [c for c in items
                     if all(_value(c, _field(k)) == v for k, v in flt.items())]
            for name, desc in reversed(order):
                items.sort(key=functools.partial(_sort_key, name), reverse=desc)
            page = items[offset:] if limit is None else items[offset:offset + limit]
            return json_reply(200, [self._render(c, req) for c in page])
        except BadRequest as e:
            return _error(400, str(e))

    @route("GET", collection + r"/(?P<id>[^/]+)", "get")
    def get(self, req: Request) -> Reply:
        if denied := self._denied(req):
            return denied
        with self.lock:
            entity = copy.deepcopy(self.channels.get(req.params["id"]))
        if entity is None:
            return _error(404, "Not found")
        try:
            return json_reply(200, self._render(entity, req))
        except BadRequest as e:
            return _error(400, str(e))

    @route("PATCH", collection + r"/(?P<id>[^/]+)", "patch")
    def patch(self, req: Request) -> Reply:
        if denied := self._denied(req):
            return denied
        with self.lock:
            entity = self.channels.get(req.params["id"])
            if entity is None:
                return _error(404, "Not found")
            try:
                body = self._body_object(req)
                for f in ("id", "token_local", "tokenlocal"):
                    if f in body:
                        raise BadRequest(f"Field '{ALIASES.get(f, f)}' can't be modified")
                _validate(body)
            except BadRequest as e:
                return _error(400, str(e))
            if "code" in body and self._code_taken(body["code"], entity["id"]):
                return _error(409, f"Integration point with code '{body['code']}' already exists")
            for f in STR_FIELDS:
                if f in body:
                    entity[f] = body[f]
            entity["opts"].update(body.get("opts", {}))
            entity["ext"]["lwt"] = _stamp(self.wall_clock())
            return json_reply(200, copy.deepcopy(entity))

    @route("DELETE", collection + r"/(?P<id>[^/]+)", "delete")
    def delete(self, req: Request) -> Reply:
        if denied := self._denied(req):
            return denied
        with self.lock:
            if self.channels.pop(req.params["id"], None) is None:
                return _error(404, "Not found")
        return Reply(204)

    @route("LOOKUP", collection, "lookup")
    def lookup(self, req: Request) -> Reply:
        with self.lock:
            items = list(self.channels.values())
        return self._lookup(req, items, ("id", "code", "token_local"))

    @route("LOOKUP", "/rest/v1/service/svcscripts", "lookup_svcscripts")
    def lookup_svcscripts(self, req: Request) -> Reply:
        return self._lookup(req, self.svcscripts, ("id", "code"))


def make(**options: Any) -> EraSimulator:
    faults = options.pop("faults", None)
    return EraSimulator(faults=Faults(**faults) if isinstance(faults, dict) else faults, **options)

"""A gate's buckets, slots and pause in Redis, shared by every worker of a deployment.

Each operation is one Lua script, so it is atomic on the server and reads the server's clock
(``TIME``): workers on machines whose clocks disagree still share one bucket. Times are
microseconds. The keys (``runner:limits:...``) are hashes of the connector's name, base URL and
``per:`` value, so no tenant name or secret a ``per:`` template reads is written to Redis; each
expires on its own once unused.

- the bucket: the GCRA theoretical arrival time of one key; a request reserves its moment;
- the pause (a ``Retry-After``): until when no request of the connector goes; it is kept a
  minute past its end so that the first moment after it starts the rate, not a burst;
- the slots: a sorted set of tokens scored by their lease's end; a worker killed mid-request
  loses its slot when the lease ends (:data:`LEASE`), not never.

redis-py is the ``scale`` extra's (:func:`runner.extras.need`).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from typing import Any

from runner.errors import TransportError
from runner.store_url import masked_url

LEASE = 120.0  # seconds a slot is held at most (a worker killed mid-request gives none back)
_NOW = ("local t = redis.call('TIME') "
        "local now = tonumber(t[1]) * 1000000 + tonumber(t[2]) ")
RESERVE = _NOW + """
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
if pause > now then return {pause - now, 0} end
local interval = tonumber(ARGV[1])
if interval == 0 then return {0, 1} end
local tau = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if tat < pause + tau then tat = pause + tau end
local new = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', new), 'PX',
           math.floor((new - now) / 1000) + 1000)
local wait = tat - tau - now
if wait < 0 then wait = 0 end
return {wait, 1}
"""
PAUSE = _NOW + """
local untl = now + tonumber(ARGV[1])
local pause = tonumber(redis.call('GET', KEYS[1]) or '0')
if untl > pause then
  redis.call('SET', KEYS[1], string.format('%.0f', untl), 'PX',
             math.floor(tonumber(ARGV[1]) / 1000) + 60000)
end
return 1
"""
TAKE = _NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.floor(tonumber(ARGV[2]) / 1000) + 1000)
  return 1
end
return 0
"""

_clients: dict[str, Any] = {}
_lock = threading.Lock()
_failed: tuple[type[Exception], ...] = ()  # redis-py's RedisError, once it is imported


def _client(url: str) -> Any:
    with _lock:
        client = _clients.get(url)
        if client is None:
            from runner.extras import need

            need("scale", "limits shared through Redis")
            import redis

            global _failed
            _failed = (redis.RedisError,)
            client = _clients[url] = redis.Redis.from_url(
                url, socket_timeout=5, socket_connect_timeout=5)
        return client


def _h(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


class RedisBackend:
    def __init__(self, url: str, ident: str) -> None:
        self.url = url
        self.prefix = f"runner:limits:{_h(ident)}"
        client = _client(url)
        self._reserve = client.register_script(RESERVE)
        self._pause = client.register_script(PAUSE)
        self._take = client.register_script(TAKE)
        self._client = client
        self._keys: dict[str, str] = {}

    def _key(self, key: str) -> str:
        hashed = self._keys.get(key)
        if hashed is None:
            hashed = self._keys[key] = f"{self.prefix}:{_h(key)}" if key else self.prefix
        return hashed

    def reserve(self, key: str, interval: float, tau: float) -> tuple[float, bool]:
        wait, reserved = self._call(self._reserve, [f"{self._key(key)}:tat",
                                                    f"{self.prefix}:pause"],
                                    [round(interval * 1e6), round(tau * 1e6)])
        return int(wait) / 1e6, bool(reserved)

    def pause(self, seconds: float, tau: float) -> None:
        self._call(self._pause, [f"{self.prefix}:pause"], [round(seconds * 1e6)])

    def take_slot(self, key: str, limit: int) -> Any:
        token = secrets.token_hex(8)
        got = self._call(self._take, [f"{self._key(key)}:slots"],
                         [limit, round(LEASE * 1e6), token])
        return token if got else None

    def give_slot(self, key: str, token: Any) -> None:
        self._call(lambda keys, args: self._client.zrem(keys[0], *args),
                   [f"{self._key(key)}:slots"], [token])

    def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return script(keys=keys, args=args)
        except _failed as e:
            raise TransportError(f"not sent: the Redis that holds the connector's limits "
                                 f"({masked_url(self.url)}) did not answer: {e}", sent=False,
                                 hint="limits shared by workers live in Redis (the broker's, "
                                 "or the environment's limits.redis): check that it is up"
                                 ) from None

"""Exact-match response cache: in-memory LRU by default, Redis when replicas share it.

Design choices:
- The key is a SHA-256 of the route, the resolved model and the whole request body except what does
  not change the answer (`stream`, `stream_options`, `user`, `luban`), serialized with sorted keys: two
  requests that differ in any sampling parameter never share an answer.
- Only deterministic requests are cached (temperature 0, or a `seed`; embeddings always) unless the
  gateway says otherwise (`cache.deterministic_only: false`) or the request opts in (`"luban": {"cache":
  true}`). `Cache-Control: no-store` skips the cache both ways; `no-cache` skips the read only.
- The value is the non-streamed JSON answer. A streamed answer is assembled into that shape before it is
  stored, and a hit asked for as a stream is replayed as SSE chunks (sse.py).
- Redis failures are never the client's problem: the request goes on uncached, the metric counts it, and
  the cache stays off Redis for a second so that a dead Redis costs one timeout per second, not per request.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

import orjson
from redis import exceptions as redis_errors

log = logging.getLogger("luban.gateway")
IGNORED_FIELDS = frozenset({"stream", "stream_options", "user", "luban"})
RETRY_REDIS_AFTER = 1.0


def cache_key(route: str, model: str, body: dict[str, Any]) -> str:
    canonical = {k: v for k, v in body.items() if k not in IGNORED_FIELDS}
    canonical["model"] = model
    return hashlib.sha256(route.encode() + b"\0" + orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


def deterministic(route: str, body: dict[str, Any]) -> bool:
    if route == "embeddings":
        return True
    return body.get("temperature") == 0 or body.get("seed") is not None


class ResponseCache(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes) -> None: ...


class MemoryCache:
    """LRU with a TTL, in this process."""

    def __init__(self, ttl: float, max_entries: int) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def get(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[0] < time.monotonic():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return item[1]

    async def set(self, key: str, value: bytes) -> None:
        self._data[key] = (time.monotonic() + self.ttl, value)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class RedisCache:
    """Shared by every replica; a failing Redis makes it a miss, never an error."""

    def __init__(self, client: Any, prefix: str, ttl: float, on_error: Callable[[str], None]) -> None:
        self.client = client
        self.prefix = prefix + "cache:"
        self.ttl = ttl
        self.on_error = on_error
        self._down_until = 0.0

    async def get(self, key: str) -> bytes | None:
        if time.monotonic() < self._down_until:
            return None
        try:
            value = await self.client.get(self.prefix + key)
        except (redis_errors.RedisError, OSError) as err:
            self._failed("cache.get", err)
            return None
        return bytes(value) if value is not None else None

    async def set(self, key: str, value: bytes) -> None:
        if time.monotonic() < self._down_until:
            return
        try:
            await self.client.set(self.prefix + key, value, px=int(self.ttl * 1000))
        except (redis_errors.RedisError, OSError) as err:
            self._failed("cache.set", err)

    def _failed(self, op: str, err: Exception) -> None:
        if time.monotonic() >= self._down_until:
            log.warning("Redis failed in %s (%s): answers go uncached for %.0f s", op, err, RETRY_REDIS_AFTER)
        self._down_until = time.monotonic() + RETRY_REDIS_AFTER
        self.on_error(op)

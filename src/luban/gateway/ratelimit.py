"""Per-key requests per minute, tokens per minute and budgets: in memory, or atomic across replicas in Redis.

Design choices:
- Token buckets refilled continuously (a fixed window lets a client send twice the limit across a
  minute boundary). RPM takes one token when a request is admitted; TPM is charged with the real token
  count when the answer is done (it is unknown before), so a bucket may go negative and admits nothing
  until it has refilled: the overdraft is paid back, never forgiven. `Retry-After` is the time to refill.
- Budgets: spend per key and period (day, month, total) in the gateway's currency; a key at or over its
  budget gets 429 `insufficient_quota`, which is what OpenAI answers and what its clients do not retry.
- With Redis, admit and charge are each one Lua script (one round trip, atomic, Redis's own clock so that
  replicas agree). When Redis fails the limiter counts the error and falls back to this replica's memory
  for a second, then tries Redis again: requests go on, limits hold per replica meanwhile.
"""

from __future__ import annotations

import calendar
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import exceptions as redis_errors

from luban.gateway.keys import KeyRecord

log = logging.getLogger("luban.gateway")
RETRY_REDIS_AFTER = 1.0  # seconds on the memory fallback after a Redis error


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""  # "rpm" | "tpm" | "budget"
    retry_after: float = 0.0


ALLOW = Decision(True)


def period_id(period: str, now: float) -> tuple[str, float]:
    """(the budget period's id, seconds until it ends) in UTC."""
    t = time.gmtime(now)
    if period == "day":
        return time.strftime("%Y%m%d", t), 86400 - (t.tm_hour * 3600 + t.tm_min * 60 + t.tm_sec)
    if period == "month":
        nxt = calendar.timegm((t.tm_year + (t.tm_mon == 12), t.tm_mon % 12 + 1, 1, 0, 0, 0, 0, 0, 0))
        return time.strftime("%Y%m", t), nxt - now
    return "total", 0.0


class MemoryLimiter:
    """One process's limits: dicts of buckets, no I/O."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], list[float]] = {}  # (key id, kind) -> [level, at]
        self._spend: dict[tuple[str, str], float] = {}

    def _level(self, kid: str, kind: str, cap: int, now: float) -> list[float]:
        b = self._buckets.get((kid, kind))
        if b is None:
            b = self._buckets[(kid, kind)] = [float(cap), now]
        else:
            b[0] = min(float(cap), b[0] + (now - b[1]) * cap / 60.0)
            b[1] = now
        return b

    async def admit(self, key: KeyRecord) -> Decision:
        now = time.time()
        if key.budget is not None:
            pid, left = period_id(key.budget_period, now)
            if self._spend.get((key.id, pid), 0.0) >= key.budget:
                return Decision(False, "budget", left)
        if key.tpm:
            b = self._level(key.id, "tpm", key.tpm, now)
            if b[0] <= 0:
                return Decision(False, "tpm", (1 - b[0]) * 60.0 / key.tpm)
        if key.rpm:
            b = self._level(key.id, "rpm", key.rpm, now)
            if b[0] < 1:
                return Decision(False, "rpm", (1 - b[0]) * 60.0 / key.rpm)
            b[0] -= 1
        return ALLOW

    async def charge(self, key: KeyRecord, tokens: int, cost: float) -> None:
        now = time.time()
        if key.tpm and tokens:
            self._level(key.id, "tpm", key.tpm, now)[0] -= tokens
        if key.budget is not None and cost:
            pid, _ = period_id(key.budget_period, now)
            self._spend[(key.id, pid)] = self._spend.get((key.id, pid), 0.0) + cost

    def spent(self, key: KeyRecord) -> float:
        return self._spend.get((key.id, period_id(key.budget_period, time.time())[0]), 0.0)


_LEVEL = """
local function level(key, cap, now)
  local v = redis.call('HMGET', key, 'l', 't')
  local l = tonumber(v[1])
  if l == nil then return cap end
  return math.min(cap, l + (now - tonumber(v[2])) * cap / 60)
end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""
# KEYS: rpm bucket, tpm bucket, spend; ARGV: rpm, tpm, budget (0 = none)
ADMIT = _LEVEL + """
local rpm, tpm, budget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if budget > 0 and tonumber(redis.call('GET', KEYS[3]) or '0') >= budget then return {'budget', '0'} end
if tpm > 0 then
  local l = level(KEYS[2], tpm, now)
  if l <= 0 then return {'tpm', tostring((1 - l) * 60 / tpm)} end
end
if rpm > 0 then
  local l = level(KEYS[1], rpm, now)
  if l < 1 then return {'rpm', tostring((1 - l) * 60 / rpm)} end
  redis.call('HSET', KEYS[1], 'l', tostring(l - 1), 't', tostring(now))
  redis.call('EXPIRE', KEYS[1], 120)
end
return {'', '0'}
"""
# KEYS: tpm bucket, spend; ARGV: tpm, tokens, cost, spend ttl (0 = keep)
CHARGE = _LEVEL + """
local tpm, tokens, cost, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if tpm > 0 and tokens > 0 then
  local l = level(KEYS[1], tpm, now) - tokens
  redis.call('HSET', KEYS[1], 'l', tostring(l), 't', tostring(now))
  redis.call('EXPIRE', KEYS[1], math.max(120, math.ceil((tpm - l) * 60 / tpm) + 60))
end
if cost > 0 then
  redis.call('INCRBYFLOAT', KEYS[2], ARGV[3])
  if ttl > 0 then redis.call('EXPIRE', KEYS[2], ttl) end
end
return 1
"""


class RedisLimiter:
    """Limits shared by every replica through one Redis; this replica's memory when Redis is down."""

    def __init__(self, client: Any, prefix: str, on_error: Callable[[str], None]) -> None:
        self.client = client
        self.prefix = prefix
        self.on_error = on_error
        self.fallback = MemoryLimiter()
        self._down_until = 0.0
        self._admit = client.register_script(ADMIT)
        self._charge = client.register_script(CHARGE)

    def _keys(self, key: KeyRecord, now: float) -> tuple[str, str, str, float]:
        base = f"{self.prefix}rl:{{{key.id}}}:"
        pid, left = period_id(key.budget_period, now)
        return base + "rpm", base + "tpm", f"{base}spend:{pid}", left

    async def admit(self, key: KeyRecord) -> Decision:
        if not (key.rpm or key.tpm or key.budget is not None):
            return ALLOW
        now = time.time()
        if now < self._down_until:
            return await self.fallback.admit(key)
        rpm_k, tpm_k, spend_k, left = self._keys(key, now)
        try:
            reason, wait = await self._admit(keys=[rpm_k, tpm_k, spend_k],
                                             args=[key.rpm or 0, key.tpm or 0, key.budget or 0])
        except (redis_errors.RedisError, OSError) as err:
            self._failed("ratelimit.admit", err)
            return await self.fallback.admit(key)
        reason = reason.decode() if isinstance(reason, bytes) else str(reason)
        if not reason:
            return ALLOW
        return Decision(False, reason, left if reason == "budget" else float(wait))

    async def charge(self, key: KeyRecord, tokens: int, cost: float) -> None:
        if not ((key.tpm and tokens) or (key.budget is not None and cost)):
            return
        now = time.time()
        if now < self._down_until:
            await self.fallback.charge(key, tokens, cost)
            return
        _, tpm_k, spend_k, left = self._keys(key, now)
        try:
            await self._charge(keys=[tpm_k, spend_k],
                               args=[key.tpm or 0, tokens, repr(float(cost)), int(left) + 3600 if left else 0])
        except (redis_errors.RedisError, OSError) as err:
            self._failed("ratelimit.charge", err)
            await self.fallback.charge(key, tokens, cost)

    def _failed(self, op: str, err: Exception) -> None:
        if time.time() >= self._down_until:
            log.warning("Redis failed in %s (%s): limits fall back to this replica for %.0f s", op, err,
                        RETRY_REDIS_AFTER)
        self._down_until = time.time() + RETRY_REDIS_AFTER
        self.on_error(op)

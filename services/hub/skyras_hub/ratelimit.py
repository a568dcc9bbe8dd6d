"""Rate limiting: a token bucket per API key (per client address without one) in Redis.

Who fills it: `open_rate_limiter` at startup. Who reads it: the auth
dependency in `api.deps`, after the caller is known. The bucket lives in
Redis so that every hub replica shares it; one Lua script refills and takes a
token atomically, using Redis's clock so replicas never disagree on time.

If Redis is unreachable the limiter fails open (requests pass, a warning is
logged at most every 30 s, and Redis is not asked again for a few seconds):
an outage of the limiter must not become an outage of the hub.
"""

import logging
import math
import time
from dataclasses import dataclass

from fastapi import FastAPI
from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from skyras.constants import RATE_LIMIT_PREFIX
from skyras.errors import ApiError
from skyras_hub import metrics
from skyras_hub.auth import Principal
from skyras_hub.config import HubSettings

log = logging.getLogger("skyras_hub.ratelimit")

# KEYS[1] bucket; ARGV: rate (tokens/s), burst. Returns 0 when a token was taken, else the
# milliseconds to wait for one (at least 1). One integer: the reply is parsed on every request.
TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait_ms = math.max(1, math.ceil((1 - tokens) / rate * 1000))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return wait_ms
"""

_FAIL_OPEN_SECONDS = 5.0
_WARN_EVERY_SECONDS = 30.0


@dataclass
class RateLimiter:
    settings: HubSettings
    script: AsyncScript
    skip_until: float = 0.0
    warned_at: float = -math.inf

    def per_minute(self, principal: Principal) -> int:
        overrides = self.settings.rate_limit_scopes
        rates = [overrides[s] for s in principal.scopes if s in overrides]
        return max(rates) if rates else self.settings.rate_limit_per_minute

    async def check(self, principal: Principal) -> None:
        """Take a token for this caller, or raise 429 with Retry-After."""
        per_minute = self.per_minute(principal)
        if per_minute <= 0 or time.monotonic() < self.skip_until:
            return
        burst = self.settings.rate_limit_burst
        try:
            wait_ms = await self.script(
                keys=[f"{RATE_LIMIT_PREFIX}{principal.rate_limit_key}"],
                args=[per_minute / 60.0, burst],
            )
        except Exception as exc:
            self.skip_until = time.monotonic() + _FAIL_OPEN_SECONDS
            if time.monotonic() - self.warned_at > _WARN_EVERY_SECONDS:
                self.warned_at = time.monotonic()
                log.warning("rate limiting is off: Redis is unreachable (%s)", exc)
            return
        if not wait_ms:
            return
        metrics.RATE_LIMITED.inc()
        retry_after = max(1, math.ceil(int(wait_ms) / 1000))
        raise ApiError(
            429,
            f"Too many requests: {per_minute} per minute allowed (burst {burst}); "
            f"retry in {retry_after}s",
            details={"limit_per_minute": per_minute, "burst": burst, "retry_after": retry_after},
            headers={"Retry-After": str(retry_after), "X-RateLimit-Limit": str(per_minute)},
        )


async def open_rate_limiter(app: FastAPI) -> None:
    redis: Redis = app.state.redis
    app.state.rate_limiter = RateLimiter(app.state.settings, redis.register_script(TOKEN_BUCKET))

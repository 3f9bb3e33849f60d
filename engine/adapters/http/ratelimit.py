"""Per-token rate limiting: a token bucket.

The default policy is Sell's documented 36,000 requests an hour: a bucket that
holds the hour's 36,000 and refills at limit/period tokens a second (10/s), so
every request pattern Sell accepts is accepted here (a client that creates a few
hundred objects in a quick loop never sees a 429). Time comes from an injected
monotonic clock, so tests move it.

Headers (IETF RateLimit fields, for a bucket): `RateLimit-Limit` is the burst
size, `RateLimit-Remaining` the whole requests left now, `RateLimit-Reset` the
seconds until the bucket is full again; a refusal adds `Retry-After`, the whole
seconds until one request is allowed.
"""

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from engine.adapters.clocks import monotonic


@dataclass(frozen=True, slots=True)
class RateLimit:
    limit: int = 36_000
    period: float = 3600.0
    burst: int = 36_000

    def __post_init__(self) -> None:
        if self.limit < 1 or self.period <= 0 or self.burst < 1:
            raise ValueError("a rate limit needs limit >= 1, period > 0 and burst >= 1")

    @property
    def rate(self) -> float:
        """Tokens added per second."""
        return self.limit / self.period


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the bucket is full
    retry_after: int  # seconds until the next request is allowed (0 when allowed)

    def headers(self) -> list[tuple[str, str]]:
        found = [
            ("RateLimit-Limit", str(self.limit)),
            ("RateLimit-Remaining", str(self.remaining)),
            ("RateLimit-Reset", str(self.reset)),
        ]
        if not self.allowed:
            found.append(("Retry-After", str(self.retry_after)))
        return found


class RateLimiter:
    def __init__(self, policy: RateLimit, clock: Callable[[], float] = monotonic) -> None:
        self.policy = policy
        self.limit_text = str(policy.burst)  # RateLimit-Limit, the same on every answer
        self._rate, self._capacity = policy.rate, float(policy.burst)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> Decision:
        """Spend one request of `key`'s bucket if it has one."""
        return self.decision(*self.spend(key))

    def spend(self, key: str) -> tuple[bool, float]:
        """Whether `key` may make this request (then it is spent), and the tokens left."""
        rate, capacity = self._rate, self._capacity
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + max(0.0, now - at) * rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
        return allowed, tokens

    def remaining_and_reset(self, tokens: float) -> tuple[str, str]:
        """The RateLimit-Remaining and RateLimit-Reset values for `tokens` left."""
        return str(int(tokens + 1e-9)), str(math.ceil((self._capacity - tokens) / self._rate))

    def decision(self, allowed: bool, tokens: float) -> Decision:
        rate = self._rate
        retry_after = 0 if allowed else max(1, math.ceil((1.0 - tokens) / rate))
        return Decision(
            allowed=allowed,
            limit=self.policy.burst,
            remaining=int(tokens + 1e-9),
            reset=math.ceil((self._capacity - tokens) / rate),
            retry_after=retry_after,
        )

"""Token buckets per endpoint key (see :mod:`sandbox.respond_io.endpoints`), shared by all tokens."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

__all__ = ["Decision", "RateLimiter"]


@dataclass
class Decision:
    """Outcome of one request against its endpoint's bucket."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: int


class _Bucket:
    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)  # one second's worth
        self.tokens = self.capacity
        self.updated = now

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now


class RateLimiter:
    """Per-endpoint token buckets: ``rate`` tokens/s, capacity one second's worth (at least 1)."""

    def __init__(self, default_rate: float, endpoint_rates: dict[str, float] | None = None) -> None:
        self.default_rate = float(default_rate)
        self.endpoint_rates: dict[str, float] = dict(endpoint_rates or {})
        self._buckets: dict[str, _Bucket] = {}

    def rate_for(self, key: str) -> float:
        return self.endpoint_rates.get(key, self.default_rate)

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.rate_for(key), now)
        else:
            bucket.refill(now)
        return bucket

    def take(self, key: str, now: float | None = None) -> Decision:
        """Take one token for ``key``; ``allowed`` is False (with ``retry_after`` ≥ 1 s) when empty."""
        now = time.monotonic() if now is None else now
        bucket = self._bucket(key, now)
        limit = int(bucket.capacity)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Decision(True, limit, int(bucket.tokens), 0)
        wait = (1.0 - bucket.tokens) / bucket.rate if bucket.rate > 0 else 60.0
        return Decision(False, limit, 0, max(1, math.ceil(wait)))

    def peek(self, key: str, now: float | None = None) -> Decision:
        """The bucket's state without taking a token."""
        now = time.monotonic() if now is None else now
        bucket = self._bucket(key, now)
        return Decision(bucket.tokens >= 1.0, int(bucket.capacity), int(bucket.tokens), 0)

    def configure(
        self, *, default: float | None = None, endpoints: dict[str, float | None] | None = None
    ) -> None:
        """Change limits at run time (an endpoint mapped to ``None`` uses the default); refills buckets."""
        if default is not None:
            self.default_rate = float(default)
        for key, rate in (endpoints or {}).items():
            if rate is None:
                self.endpoint_rates.pop(key, None)
            else:
                self.endpoint_rates[key] = float(rate)
        self._buckets.clear()

    def replace(self, default: float, endpoints: dict[str, float]) -> None:
        self.default_rate = float(default)
        self.endpoint_rates = dict(endpoints)
        self._buckets.clear()

    def reset(self) -> None:
        self._buckets.clear()

    def snapshot(self) -> dict[str, object]:
        return {"default": self.default_rate, "endpoints": dict(self.endpoint_rates)}

"""API usage accounting (rolling 24 h), per-endpoint counters, fault injection and record locks."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

WINDOW_SECONDS = 24 * 3600
_BUCKET_SECONDS = 60


class ApiUsage:
    """A rolling 24 h count of API calls in one-minute buckets, against a daily allocation."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._buckets: deque[list[float]] = deque()  # [bucket start, count]
        self._used = 0

    def _prune(self, now: float) -> None:
        while self._buckets and self._buckets[0][0] <= now - WINDOW_SECONDS:
            self._used -= int(self._buckets.popleft()[1])

    @property
    def used(self) -> int:
        with self._lock:
            self._prune(time.time())
            return self._used

    def try_consume(self) -> bool:
        """Count one call; ``False`` (and nothing counted) once the allocation is spent."""
        now = time.time()
        with self._lock:
            self._prune(now)
            if self._used >= self.limit:
                return False
            start = now - now % _BUCKET_SECONDS
            if self._buckets and self._buckets[-1][0] == start:
                self._buckets[-1][1] += 1
            else:
                self._buckets.append([start, 1])
            self._used += 1
            return True

    def set(self, *, used: int | None = None, limit: int | None = None) -> None:
        with self._lock:
            if limit is not None:
                self.limit = limit
            if used is not None:
                now = time.time()
                self._buckets.clear()
                if used:
                    self._buckets.append([now - now % _BUCKET_SECONDS, used])
                self._used = used

    def header(self) -> str:
        return f"api-usage={self.used}/{self.limit}"


@dataclass
class Faults:
    """Injected faults: added latency, a random 503 rate and a burst of 503s for the next N requests."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    burst: int = 0
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def should_fail(self) -> bool:
        with self._lock:
            if self.burst > 0:
                self.burst -= 1
                return True
            return self.error_rate > 0 and self._rng.random() < self.error_rate

    def snapshot(self) -> dict[str, Any]:
        return {"latency_ms": self.latency_ms, "error_rate": self.error_rate, "burst": self.burst}

    def update(self, **values: Any) -> None:
        with self._lock:
            for key in ("latency_ms", "error_rate", "burst"):
                if values.get(key) is not None:
                    setattr(self, key, type(getattr(self, key))(values[key]))
            if values.get("seed") is not None:
                self._rng = random.Random(int(values["seed"]))


class Counters:
    """Calls by endpoint name and by HTTP status (admin calls are not counted)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()

    def count_call(self, endpoint: str) -> None:
        with self._lock:
            self.calls[endpoint] += 1

    def count_status(self, status: int) -> None:
        with self._lock:
            self.statuses[str(status)] += 1

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.statuses.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": dict(self.calls),
                "statuses": dict(self.statuses),
                "total": sum(self.calls.values()),
            }


class Locks:
    """Records that answer ``UNABLE_TO_LOCK_ROW`` on write: for the next N writes, or until cleared."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, int | None] = {}

    def set(self, record_ids: list[str], times: int | None) -> None:
        with self._lock:
            for record_id in record_ids:
                self._locks[record_id] = times

    def clear(self) -> None:
        with self._lock:
            self._locks.clear()

    def hit(self, record_id: str) -> bool:
        """Whether a write to ``record_id`` fails now (consumes one of its N failures)."""
        with self._lock:
            if record_id not in self._locks:
                return False
            remaining = self._locks[record_id]
            if remaining is None:
                return True
            if remaining <= 1:
                del self._locks[record_id]
            else:
                self._locks[record_id] = remaining - 1
            return remaining >= 1

    def snapshot(self) -> dict[str, int | None]:
        with self._lock:
            return dict(self._locks)

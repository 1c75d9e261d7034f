"""
Rate limiting for respond.io: endpoint keys, the limiter interface and the in-process limiter.

respond.io limits requests **per endpoint** (method + path template) at organisation level and reports the
state of the endpoint's budget in ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining`` (plus ``Retry-After`` on
429). The hook asks the limiter for permission before every request (:meth:`RateLimiter.acquire`) and feeds
every response's headers back (:meth:`RateLimiter.observe`).

:class:`RateLimiter` is the small interface both limiters implement: :class:`InProcessRateLimiter` (one
process) and :class:`hooks.respond_io_shared_limits.RedisRateLimiter` (every worker sharing one Redis, used
when the connection sets ``rate_limiter_conn_id``).

>>> endpoint_key("post", "https://api.respond.io/v2/contact/create_or_update/email:a+b@x.com")
'POST /contact/create_or_update/{identifier}'
>>> endpoint_key("DELETE", "/contact/id:12/tag")
'DELETE /contact/{identifier}/tag'
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_RATE_PER_SECOND",
    "InProcessRateLimiter",
    "RateLimiter",
    "endpoint_key",
    "parse_rate_headers",
    "path_template",
]

#: Requests per second per endpoint when the connection does not say otherwise (third-party figure for the
#: real service; see the API reference, section 7).
DEFAULT_RATE_PER_SECOND = 5.0

_API_PREFIX = "/v2"
# Second segments of /contact/... that are literal path parts, not contact identifiers.
_CONTACT_LITERALS = frozenset({"list", "merge", "create_or_update"})


def path_template(path: str) -> str:
    """The template of a concrete API path: ``/contact/id:1/tag`` → ``/contact/{identifier}/tag``.

    Accepts a full URL or a path, with or without the ``/v2`` prefix and query string.

    :param path: request path or URL.
    """
    if "://" in path:
        path = urlsplit(path).path
    path = path.split("?", 1)[0].split("#", 1)[0]
    if path == _API_PREFIX or path.startswith(_API_PREFIX + "/"):
        path = path[len(_API_PREFIX) :]
    parts = [unquote(p) for p in path.split("/") if p]
    if not parts:
        return "/"
    if parts[0] == "contact" and len(parts) >= 2:
        if parts[1] == "create_or_update" and len(parts) == 3:
            parts[2] = "{identifier}"
        elif parts[1] not in _CONTACT_LITERALS:
            parts[1] = "{identifier}"
    elif parts[0] == "space" and len(parts) >= 3:
        parts[2] = "{id}"
    return "/" + "/".join(parts)


def endpoint_key(method: str, path: str) -> str:
    """The rate-limit key of a request: upper-case method, a space, the path template.

    :param method: HTTP method, any case.
    :param path: request path or URL.
    """
    return f"{method.upper()} {path_template(path)}"


@runtime_checkable
class RateLimiter(Protocol):
    """What the hook needs from a limiter. Implementations must be thread-safe."""

    def acquire(self, endpoint_key: str) -> None:
        """Block until one request to ``endpoint_key`` may be sent."""

    def observe(
        self,
        endpoint_key: str,
        *,
        limit: int | None = None,
        remaining: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Correct the limiter from a response's rate-limit headers (``None`` = header absent)."""


@dataclass
class _KeyState:
    rate: float
    tat: float = 0.0  # theoretical arrival time of the next request (GCRA)
    paused_until: float = 0.0


class InProcessRateLimiter:
    """
    Per-endpoint GCRA ("token bucket") limiter shared by the threads of one process.

    Why not pyrate-limiter (installed, v4): its blocking ``try_acquire`` polls: every waiting thread sleeps
    for the computed wait plus ``buffer_ms`` and retries under one lock. With the pipeline's dozens of
    threads queued on one endpoint that is a thundering herd every emission interval, with no ordering among
    waiters, and the sleeps' extra buffer costs throughput at the limit. It also has no way to say "this
    endpoint is closed until ``Retry-After``" except faking consumption. Here every :meth:`acquire`
    *reserves* the next free slot under a lock (one short critical section, first come first served) and
    sleeps exactly until it, so the endpoint runs at its rate with no polling; :meth:`observe` pauses an
    endpoint on ``Retry-After`` / ``X-RateLimit-Remaining: 0`` and lowers its rate when the server's
    ``X-RateLimit-Limit`` is below ours. The arithmetic is the same GCRA pyrate-limiter's ``TokenBucket``
    uses. :class:`hooks.respond_io_shared_limits.RedisRateLimiter` makes the same reservation in Redis for
    several worker processes.

    :param rate_per_second: default requests/s per endpoint.
    :param endpoint_rates: per-endpoint overrides keyed by :func:`endpoint_key`.
    :param burst: requests an idle endpoint may send at once; 1 (default) spaces every request evenly, which
        keeps the server's own bucket full and avoids 429s caused by arrival jitter.
    :param clock: monotonic clock (tests).
    :param sleep: sleep function (tests).
    """

    def __init__(
        self,
        rate_per_second: float = DEFAULT_RATE_PER_SECOND,
        endpoint_rates: Mapping[str, float] | None = None,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be > 0")
        if burst < 1:
            raise ValueError("burst must be >= 1")
        self.default_rate = float(rate_per_second)
        self.endpoint_rates = {k: float(v) for k, v in (endpoint_rates or {}).items()}
        if any(v <= 0 for v in self.endpoint_rates.values()):
            raise ValueError("endpoint rates must be > 0")
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._keys: dict[str, _KeyState] = {}

    def _state(self, key: str) -> _KeyState:
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _KeyState(rate=self.endpoint_rates.get(key, self.default_rate))
        return state

    def rate(self, endpoint_key: str) -> float:
        """The rate currently applied to ``endpoint_key`` (after header corrections)."""
        with self._lock:
            return self._state(endpoint_key).rate

    def _reserve(self, key: str) -> float:
        """Reserve the next slot of ``key``; return the monotonic time it may be used."""
        with self._lock:
            state = self._state(key)
            now = self._clock()
            start = max(now, state.paused_until)
            interval = 1.0 / state.rate
            tat = max(state.tat, start)
            send_at = max(start, tat - (self.burst - 1) * interval)
            state.tat = tat + interval
            return send_at

    def acquire(self, endpoint_key: str) -> None:
        """Block until a request to ``endpoint_key`` may be sent (a reserved slot, re-checked for pauses)."""
        while True:
            send_at = self._reserve(endpoint_key)
            delay = send_at - self._clock()
            if delay > 0:
                self._sleep(delay)
            with self._lock:
                paused_until = self._state(endpoint_key).paused_until
            if paused_until <= self._clock():
                return
            # A pause began while this thread slept; its slot is void, queue again behind the pause.

    def pause(self, endpoint_key: str, seconds: float) -> None:
        """Send nothing to ``endpoint_key`` for ``seconds`` (extends, never shortens, a running pause)."""
        if seconds <= 0:
            return
        with self._lock:
            state = self._state(endpoint_key)
            until = self._clock() + seconds
            if until > state.paused_until:
                state.paused_until = until
                state.tat = max(state.tat, until)

    def observe(
        self,
        endpoint_key: str,
        *,
        limit: int | None = None,
        remaining: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Apply a response's rate-limit headers.

        - ``retry_after``: pause the endpoint that long (a 429's ``Retry-After``).
        - ``remaining == 0``: the server's budget is spent; pause one emission interval so it refills.
        - ``limit`` below our rate: adopt the server's figure (never raise above the configured rate).
        """
        if limit is not None and limit > 0:
            with self._lock:
                state = self._state(endpoint_key)
                if limit < state.rate:
                    log.warning(
                        "respond.io reports a limit of %s for %s, below the configured %s/s; using it",
                        limit,
                        endpoint_key,
                        state.rate,
                    )
                    state.rate = float(limit)
        if retry_after is not None and retry_after > 0:
            self.pause(endpoint_key, retry_after)
        elif remaining is not None and remaining <= 0:
            self.pause(endpoint_key, 1.0 / self.rate(endpoint_key))


def parse_rate_headers(headers: Mapping[str, str]) -> tuple[int | None, int | None, float | None]:
    """``(limit, remaining, retry_after)`` from response headers; unparsable or absent values are ``None``.

    :param headers: response headers (case-insensitive mapping, e.g. ``requests``' ``CaseInsensitiveDict``).
    """

    def number(name: str) -> float | None:
        raw = headers.get(name)
        if raw is None:
            return None
        try:
            value = float(str(raw).strip())
        except ValueError:
            return None
        return value if math.isfinite(value) and value >= 0 else None

    limit, remaining = number("X-RateLimit-Limit"), number("X-RateLimit-Remaining")
    retry_after = number("Retry-After")
    return (
        int(limit) if limit is not None else None,
        int(remaining) if remaining is not None else None,
        retry_after,
    )

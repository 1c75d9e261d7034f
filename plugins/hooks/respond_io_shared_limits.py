"""
A respond.io rate limiter shared by every process that uses the same Redis: the limit holds organisation-wide.

respond.io counts requests per endpoint for the whole organisation, so when the sync runs on several Celery
workers an in-process limiter per worker lets N workers send N times the limit. :class:`RedisRateLimiter`
keeps the state of :class:`~hooks.respond_io_limits.InProcessRateLimiter` (the GCRA theoretical arrival
time, the pause-until, the rate lowered by ``X-RateLimit-Limit``) in one Redis hash per endpoint and changes
it only inside a small Lua script, so every reservation is atomic across processes and machines:

- :meth:`~RedisRateLimiter.acquire` reserves the next slot in one round trip and sleeps exactly until it (no
  polling); if it had to sleep, one more round trip confirms that no pause began meanwhile and otherwise
  queues again behind the pause, as the in-process limiter does;
- time is Redis server ``TIME``, so the workers' own clocks never meet; sleeps are relative durations;
- keys are ``contact-sync:ratelimit:<namespace>:<endpoint key>`` (namespace = the respond.io connection id,
  or the extra ``rate_limiter_namespace`` when several connections share one organisation) and expire after
  ``idle_ttl`` seconds without traffic; a lowered rate lapses ``idle_ttl`` after the server last reported it.

Why not pyrate-limiter's Redis buckets (4.5.1 is installed; its ``RedisStateStore`` even runs GCRA in Lua):
its check is *admit or reject* (a rejected request reserves nothing), and ``Limiter.try_acquire(blocking=True)``
sleeps the computed wait plus ``buffer_ms`` (50 ms by default: more than the 20 ms between slots at 50/s) and
tries again. Across processes that is every waiter of every worker waking at the same moments and racing in
Redis, with no order among them, one Redis call per wake-up, and the buffer lost at the limit: the argument
of the in-process limiter's docstring, multiplied by the number of workers. It also stamps requests with each
client's wall clock (``now`` is a script argument), so clock skew between machines moves the shared state;
and its rates are fixed per bucket, with no "closed until ``Retry-After``" and no rate lowered by the server.

If Redis cannot be reached the limiter raises :class:`RateLimiterUnavailable` (never falls back to an
in-process limiter, which would silently break the organisation-wide limit). It is deliberately not a
:class:`~hooks.respond_io_errors.RespondIoError`: :meth:`~hooks.respond_io.RespondIoHook.call` lets it
propagate instead of turning it into a per-contact failure, so the task fails as a system error and Airflow's
retries run (policies can name it ``hooks.respond_io_shared_limits.RateLimiterUnavailable``). The hook pings
Redis once when it builds the limiter (which :class:`~hooks.respond_io_pipeline.ContactPipeline` does before
its threads start) and fails at once if it is down; later, a lost connection is retried for about 1.7 s
(``reconnect_waits``) so a Redis restart or fail-over does not fail the task. Needs Redis >= 5.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from hooks.respond_io_limits import DEFAULT_RATE_PER_SECOND

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from airflow.sdk import Connection
    from redis import Redis

__all__ = [
    "KEY_PREFIX",
    "RateLimiterUnavailable",
    "RedisRateLimiter",
    "Reservation",
    "SharedRateLimiter",
    "redis_rate_limiter",
    "redis_url",
]

log = logging.getLogger(__name__)

KEY_PREFIX = "contact-sync:ratelimit"
#: Seconds without traffic after which an endpoint's key expires (and a server-lowered rate lapses).
DEFAULT_IDLE_TTL = 600.0
#: Waits (s) before each new attempt when the connection to Redis is lost mid-run.
RECONNECT_WAITS = (0.2, 0.5, 1.0)

# KEYS[1]: the endpoint's hash. ARGV: op, configured rate/s, burst, idle ttl (s), then for op "observe":
# the server's limit (0 = none), seconds to pause (0 = none), 1 = pause one interval (remaining == 0).
# "reserve" takes the next slot; "confirm" takes one only while paused (else delay 0); "peek" reads the rate.
# Returns {delay µs, send_at µs, effective rate (string), 1 if the limit was lowered}. Times are Redis TIME
# seconds, stored with '%.6f' (Lua's default number format keeps only 14 digits).
_SCRIPT = """
local key, op = KEYS[1], ARGV[1]
local rate, burst, ttl = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local s = redis.call('HMGET', key, 'tat', 'paused_until', 'limit', 'limit_at')
local tat, paused = tonumber(s[1]) or 0, tonumber(s[2]) or 0
local limit, limit_at = tonumber(s[3]), tonumber(s[4]) or 0
if limit and now - limit_at < ttl and limit < rate then rate = limit end
local send_at, lowered = now, 0
if op == 'observe' then
  local seen, pause = tonumber(ARGV[5]), tonumber(ARGV[6])
  if seen > 0 and seen <= rate then
    if seen < rate then lowered = 1 end
    rate = seen
    redis.call('HSET', key, 'limit', string.format('%.6f', seen), 'limit_at', string.format('%.6f', now))
  end
  if ARGV[7] == '1' then pause = 1 / rate end
  if pause > 0 and now + pause > paused then
    paused = now + pause
    tat = math.max(tat, paused)
    redis.call('HSET', key, 'paused_until', string.format('%.6f', paused), 'tat', string.format('%.6f', tat))
  end
elseif op == 'reserve' or (op == 'confirm' and paused > now) then
  local start = math.max(now, paused)
  local interval = 1 / rate
  tat = math.max(tat, start)
  send_at = math.max(start, tat - (burst - 1) * interval)
  tat = tat + interval
  redis.call('HSET', key, 'tat', string.format('%.6f', tat))
end
local last = math.max(tat, paused, now)
redis.call('PEXPIRE', key, math.ceil((last - now + ttl) * 1000))
return {math.ceil((send_at - now) * 1000000), math.floor(send_at * 1000000), string.format('%.17g', rate), lowered}
"""


class RateLimiterUnavailable(RuntimeError):
    """The shared rate limiter's backend (Redis or the state DB) cannot be used: a system error (the task fails
    and is retried)."""


class Reservation(NamedTuple):
    """A reserved slot: ``delay`` seconds from now, at ``send_at`` (Redis server time, seconds)."""

    delay: float
    send_at: float


class SharedRateLimiter:
    """
    What the shared limiters have in common: their configuration, errors, and how response headers are read.
    A backend (:class:`RedisRateLimiter`, ``hooks.respond_io_state_limits.StateDbRateLimiter``) reserves slots
    and applies header corrections atomically for every process, in :meth:`_apply` and its own
    :meth:`reserve`/:meth:`acquire`.

    :param namespace: the respond.io organisation/workspace the limits belong to.
    :param rate_per_second: default requests/s per endpoint.
    :param endpoint_rates: per-endpoint overrides keyed by :func:`~hooks.respond_io_limits.endpoint_key`.
    :param burst: requests an idle endpoint may send at once (1 spaces every request evenly).
    :param idle_ttl: seconds without traffic after which an endpoint's state (and a lowered rate) lapses.
    :param source: how to name the backend in errors (a connection id and redacted URL, never a password).
    :param fix: what to do when the backend cannot be used, appended to the error.
    :param reconnect_waits: seconds to wait before each further attempt after a lost connection.
    :param sleep: sleep function for reserved slots (tests).
    """

    def __init__(
        self,
        *,
        namespace: str,
        rate_per_second: float = DEFAULT_RATE_PER_SECOND,
        endpoint_rates: Mapping[str, float] | None = None,
        burst: int = 1,
        idle_ttl: float = DEFAULT_IDLE_TTL,
        source: str,
        fix: str,
        reconnect_waits: Sequence[float] = RECONNECT_WAITS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not namespace:
            raise ValueError("namespace must not be empty")
        if rate_per_second <= 0 or burst < 1 or idle_ttl <= 0:
            raise ValueError("rate_per_second and idle_ttl must be > 0, burst >= 1")
        self.endpoint_rates = {k: float(v) for k, v in (endpoint_rates or {}).items()}
        if any(v <= 0 for v in self.endpoint_rates.values()):
            raise ValueError("endpoint rates must be > 0")
        self.namespace = namespace
        self.default_rate = float(rate_per_second)
        self.burst = burst
        self.idle_ttl = float(idle_ttl)
        self.source = source
        self.fix = fix
        self.reconnect_waits = tuple(reconnect_waits)
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"{type(self).__name__}(namespace={self.namespace!r}, source={self.source!r})"

    def configured_rate(self, endpoint_key: str) -> float:
        """The rate the connection configures for ``endpoint_key`` (before corrections by the server)."""
        return self.endpoint_rates.get(endpoint_key, self.default_rate)

    def _unavailable(self, error: Exception) -> RateLimiterUnavailable:
        detail = (
            str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200] if str(error) else ""
        )
        return RateLimiterUnavailable(
            f"the shared respond.io rate limiter cannot use {self.source}: {type(error).__name__}: {detail}. "
            f"Fix: {self.fix}"
        )

    def _apply(self, endpoint_key: str, *, seen: float, pause: float, spent: bool) -> tuple[float, bool]:
        """Atomically, for every process: adopt a lower server limit ``seen`` (0 = none), pause ``pause`` seconds,
        or one emission interval when ``spent``; return ``(rate now applied, whether it was lowered)``."""
        raise NotImplementedError

    def pause(self, endpoint_key: str, seconds: float) -> None:
        """Send nothing to ``endpoint_key`` for ``seconds``, in every process (extends, never shortens)."""
        if seconds > 0:
            self._apply(endpoint_key, seen=0.0, pause=seconds, spent=False)

    def observe(
        self,
        endpoint_key: str,
        *,
        limit: int | None = None,
        remaining: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Apply a response's rate-limit headers for every process (see ``InProcessRateLimiter.observe``).

        Only responses that change something reach the backend: a ``Retry-After``, ``remaining == 0``, or a limit
        below the configured rate. A backend failure here is logged, not raised, so the response that was already
        received still reaches the caller; the next :meth:`acquire` raises.
        """
        pause = retry_after if retry_after is not None and retry_after > 0 else 0.0
        spent = pause == 0 and remaining is not None and remaining <= 0
        seen = float(limit) if limit is not None and 0 < limit < self.configured_rate(endpoint_key) else 0.0
        if not (pause or spent or seen):
            return
        try:
            rate, lowered = self._apply(endpoint_key, seen=seen, pause=pause, spent=spent)
        except RateLimiterUnavailable as error:
            log.warning("%s", error)
            return
        if lowered:
            log.warning(
                "respond.io reports a limit of %s for %s, below the configured %s/s; using %s/s in every process",
                limit,
                endpoint_key,
                self.configured_rate(endpoint_key),
                rate,
            )


class RedisRateLimiter(SharedRateLimiter):
    """
    Per-endpoint GCRA limiter whose state lives in Redis, shared by all threads and processes using the same
    Redis and ``namespace``. Same interface and semantics as
    :class:`~hooks.respond_io_limits.InProcessRateLimiter`. The constructor does no I/O; :meth:`check` pings.

    :param client: a ``redis.Redis`` client (thread-safe; its pool serves the pipeline's threads).
    :param options: see :class:`SharedRateLimiter` (``namespace``, rates, ``burst``, ``idle_ttl``: the key
        expires after it, ``source``, ``fix``, ``reconnect_waits``, ``sleep``).
    """

    def __init__(
        self,
        client: Redis,
        *,
        namespace: str,
        source: str = "Redis",
        fix: str = "start Redis or point the limiter at a reachable one",
        **options: Any,
    ) -> None:
        super().__init__(namespace=namespace, source=source, fix=fix, **options)
        self.client = client
        self._script = client.register_script(_SCRIPT)

    def key(self, endpoint_key: str) -> str:
        """The Redis key holding ``endpoint_key``'s state."""
        return f"{KEY_PREFIX}:{self.namespace}:{endpoint_key}"

    def _run(self, op: str, endpoint_key: str, *extra: float | int) -> tuple[Reservation, float, bool]:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import RedisError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        args = [op, self.configured_rate(endpoint_key), self.burst, self.idle_ttl, *extra]
        waits = list(self.reconnect_waits)
        while True:
            try:
                delay_us, send_at_us, rate, lowered = self._script(keys=[self.key(endpoint_key)], args=args)
            except (RedisConnectionError, RedisTimeoutError) as error:
                if not waits:
                    raise self._unavailable(error) from None
                wait = waits.pop(0)
                log.warning("%s: %s; trying again in %.1fs", self.source, type(error).__name__, wait)
                time.sleep(wait)
            except RedisError as error:
                raise self._unavailable(error) from None
            else:
                reservation = Reservation(max(0, int(delay_us)) / 1e6, int(send_at_us) / 1e6)
                return reservation, float(rate), bool(lowered)

    def check(self) -> None:
        """Ping Redis once. :raises RateLimiterUnavailable: it cannot be reached or refuses us."""
        from redis.exceptions import RedisError

        try:
            self.client.ping()
        except RedisError as error:
            raise self._unavailable(error) from None

    def reserve(self, endpoint_key: str) -> Reservation:
        """Reserve the next slot of ``endpoint_key`` (atomically, for every process sharing the key)."""
        return self._run("reserve", endpoint_key)[0]

    def acquire(self, endpoint_key: str) -> None:
        """Block until a request to ``endpoint_key`` may be sent (a reserved slot, re-checked for pauses)."""
        slot = self.reserve(endpoint_key)
        while slot.delay > 0:
            self._sleep(slot.delay)
            # Still free: delay 0. A pause began while sleeping: the slot is void, a new one is reserved.
            slot = self._run("confirm", endpoint_key)[0]

    def rate(self, endpoint_key: str) -> float:
        """The rate currently applied to ``endpoint_key`` by every process (after header corrections)."""
        return self._run("peek", endpoint_key)[1]

    def _apply(self, endpoint_key: str, *, seen: float, pause: float, spent: bool) -> tuple[float, bool]:
        _, rate, lowered = self._run("observe", endpoint_key, seen, pause, int(spent))
        return rate, lowered


def _extra(extras: Mapping[str, Any], name: str) -> Any:
    value = extras.get(name)
    return None if value == "" else value


def redis_url(connection: Connection, *, redact: bool = False) -> str:
    """``redis[s]://[login:password@]host:port/db`` from an Airflow connection of type ``redis``.

    Host (default ``localhost``), port (default 6379), login and password as usual; extra ``{"db": N}``
    (default 0) and ``"ssl": true`` for TLS (``rediss://``).

    :param connection: the Redis connection.
    :param redact: replace the password with ``***`` (for messages).
    """
    extras = connection.extra_dejson
    ssl = _extra(extras, "ssl")
    ssl = ssl if isinstance(ssl, bool) else str(ssl).strip().lower() in ("1", "true", "yes", "on")
    db_raw = _extra(extras, "db")
    try:
        db = int(db_raw) if db_raw is not None else 0
    except (TypeError, ValueError):
        raise ValueError(f"Redis connection {connection.conn_id!r}: extra 'db' must be an integer") from None
    host = (connection.host or "localhost").strip()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6 literal
    userinfo = quote(connection.login or "", safe="")
    if connection.password:
        userinfo += ":" + ("***" if redact else quote(connection.password, safe=""))
    scheme = "rediss" if ssl else "redis"
    at = "@" if userinfo else ""
    return f"{scheme}://{userinfo}{at}{host}:{connection.port or 6379}/{db}"


def redis_rate_limiter(
    redis_conn_id: str,
    *,
    respond_io_conn_id: str,
    namespace: str,
    rate_per_second: float = DEFAULT_RATE_PER_SECOND,
    endpoint_rates: Mapping[str, float] | None = None,
) -> RedisRateLimiter:
    """The shared limiter for a respond.io connection whose extra ``rate_limiter_conn_id`` is ``redis_conn_id``.

    Reads the Redis connection (masking its password), builds the client and pings it once.

    :param redis_conn_id: Airflow connection of type ``redis`` (see :func:`redis_url`).
    :param respond_io_conn_id: the respond.io connection naming it (for messages).
    :param namespace: the organisation/workspace the limits belong to.
    :raises RateLimiterUnavailable: the Redis connection does not exist, or Redis cannot be reached.
    """
    from airflow.sdk import BaseHook
    from redis import Redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    fix = (
        f"start Redis, or correct host, port, password and extra db/ssl of connection {redis_conn_id!r}, "
        f"or remove the extra 'rate_limiter_conn_id' from respond.io connection {respond_io_conn_id!r} "
        "(its per-process limiter only keeps the limit with a single worker)"
    )
    try:
        connection = BaseHook.get_connection(redis_conn_id)
    except Exception as error:  # noqa: BLE001 - AirflowNotFoundException and whatever a secrets backend raises
        raise RateLimiterUnavailable(
            f"respond.io connection {respond_io_conn_id!r} names rate_limiter_conn_id {redis_conn_id!r}, "
            f"which cannot be read ({type(error).__name__}); create it (type redis) or remove the extra"
        ) from None
    if connection.conn_type not in (None, "", "redis"):
        raise ValueError(
            f"connection {redis_conn_id!r} must be of type 'redis', not {connection.conn_type!r}"
        )
    if connection.password:
        _mask(connection.password)
    client = Redis.from_url(
        redis_url(connection),
        socket_connect_timeout=2,
        socket_timeout=2,
        health_check_interval=30,
        retry=Retry(NoBackoff(), retries=0),  # the limiter retries itself (RECONNECT_WAITS)
    )
    limiter = RedisRateLimiter(
        client,
        namespace=namespace,
        rate_per_second=rate_per_second,
        endpoint_rates=endpoint_rates,
        source=f"Redis connection {redis_conn_id!r} ({redis_url(connection, redact=True)})",
        fix=fix,
    )
    limiter.check()
    log.info("respond.io %r: rate limits shared through %s", namespace, limiter.source)
    return limiter


def _mask(secret: str) -> None:
    """Register a secret with Airflow's secrets masker (connection-password masking has had gaps)."""
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - the Task SDK is part of every supported Airflow
        return
    mask_secret(secret)

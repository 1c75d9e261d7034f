"""
A respond.io rate limiter shared through the sync's own state DB: the organisation-wide limit without Redis.

respond.io counts requests per endpoint for the whole organisation. Without Redis every process (LocalExecutor
running several sync chunks at once, several Celery workers) had a limiter of its own and together they sent
N times the limit. Every task can reach the state DB (SQLite or PostgreSQL), so :class:`StateDbRateLimiter`
keeps the state of :class:`~hooks.respond_io_shared_limits.RedisRateLimiter` (the GCRA theoretical arrival
time, the pause-until, the rate lowered by ``X-RateLimit-Limit``) in one row of table ``rate_limits`` per
(namespace, endpoint key) and changes it only inside one short transaction:

- SQLite: ``BEGIN IMMEDIATE`` (takes the database's write lock at once: no two reservations interleave),
  insert the row if absent, read it, compute, update, commit;
- PostgreSQL: ``INSERT .. ON CONFLICT DO NOTHING``, ``SELECT .. FOR UPDATE`` (row lock), update, commit.

:meth:`~StateDbRateLimiter.acquire` reserves the next slot, commits, and only then sleeps until it (the
transaction is never held across a sleep); after sleeping, a plain read checks whether a pause began meanwhile
and, if so, queues again behind it, as the Redis and in-process limiters do. The threads of one process take
turns on a lock before opening a transaction, so the database only ever sees one waiter per process.

Time is each process's ``time.time()`` (unix seconds), unlike Redis, whose server clock is the only one that
counts: **the machines sharing one state DB must have synchronised clocks** (NTP), as the staged-contact
leases already require. A machine running ahead sends early and can draw 429s; they are retried.

A lowered rate lapses, and the row counts as fresh, ``idle_ttl`` seconds after the endpoint last had traffic
(Redis lets its key expire the same way; Redis also lets a lowered rate lapse ``idle_ttl`` after the server last
reported it even under continuous traffic, which this limiter does not: it stays at the lowered rate until the
endpoint is idle, so it can only be slower, never faster, than the server allows).

Each reservation is a database transaction (about 1 ms on local SQLite, a few round trips on PostgreSQL), so
this limiter suits respond.io's rates (tens of requests per second per endpoint); Redis is cheaper still. If
the database cannot be used, :meth:`~StateDbRateLimiter.acquire` tries again briefly (``reconnect_waits``) and
then raises :class:`~hooks.respond_io_shared_limits.RateLimiterUnavailable` naming the connection and the fix;
it never falls back to a per-process limiter.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from hooks.respond_io_limits import DEFAULT_RATE_PER_SECOND
from hooks.respond_io_shared_limits import RateLimiterUnavailable, Reservation, SharedRateLimiter

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from sqlalchemy.engine import Connection, Engine

__all__ = [
    "StateDbRateLimiter",
    "rate_limiter_conn_type",
    "state_db_rate_limiter",
]

log = logging.getLogger(__name__)


class _State(NamedTuple):
    tat: float
    paused_until: float
    rate: float | None  # the server-lowered rate, None = configured
    updated_at: float


class _Outcome(NamedTuple):
    state: _State | None  # what to write back (None = nothing changed)
    send_at: float
    rate: float
    lowered: bool


def _step(
    op: str,
    state: _State,
    now: float,
    *,
    configured: float,
    burst: int,
    idle_ttl: float,
    seen: float = 0.0,
    pause: float = 0.0,
    spent: bool = False,
) -> _Outcome:
    """The GCRA arithmetic of one operation (the Lua script of ``RedisRateLimiter``, in Python).

    :param op: ``reserve`` (take the next slot), ``confirm`` (take one only while paused), ``observe``
        (apply ``seen``/``pause``/``spent``) or ``peek``.
    """
    tat, paused, stored, updated = state
    if now - max(tat, paused, updated) >= idle_ttl:  # idle: like an expired Redis key
        tat, paused, stored = 0.0, 0.0, None
    rate = stored if stored is not None and stored < configured else configured
    send_at, lowered, changed = now, False, False
    if op == "observe":
        if 0 < seen <= rate:
            lowered = seen < rate
            rate = stored = seen
            changed = True
        if spent:
            pause = 1.0 / rate
        if pause > 0 and now + pause > paused:
            paused = now + pause
            tat = max(tat, paused)
            changed = True
    elif op == "reserve" or (op == "confirm" and paused > now):
        start = max(now, paused)
        interval = 1.0 / rate
        tat = max(tat, start)
        send_at = max(start, tat - (burst - 1) * interval)
        tat += interval
        changed = True
    new = _State(tat, paused, stored, now) if changed else None
    return _Outcome(new, send_at, rate, lowered)


class StateDbRateLimiter(SharedRateLimiter):
    """
    Per-endpoint GCRA limiter whose state lives in the state DB's ``rate_limits`` table, shared by all threads
    and processes using the same database and ``namespace``. Same interface and semantics as
    :class:`~hooks.respond_io_shared_limits.RedisRateLimiter`. The constructor does no I/O; :meth:`check` reads.

    :param engine: SQLAlchemy engine on a migrated state DB (SQLite or PostgreSQL).
    :param clock: wall clock in unix seconds, the same on every machine (tests).
    :param options: see :class:`~hooks.respond_io_shared_limits.SharedRateLimiter` (``namespace``, rates,
        ``burst``, ``idle_ttl``: an endpoint's state and a lowered rate lapse after it, ``source``, ``fix``,
        ``reconnect_waits``: after an operational database error, ``sleep``).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        namespace: str,
        source: str = "the state DB",
        fix: str = "start the state DB and migrate it to the newest schema",
        clock: Callable[[], float] = time.time,
        **options: Any,
    ) -> None:
        super().__init__(namespace=namespace, source=source, fix=fix, **options)
        if engine.dialect.name not in ("sqlite", "postgresql"):
            raise ValueError(
                f"the state DB rate limiter needs SQLite or PostgreSQL, not {engine.dialect.name}"
            )
        self.engine = engine
        self._clock = clock
        self._lock = threading.Lock()  # one transaction per process at a time; the others queue here

    # -- database access ----------------------------------------------------------------------------------
    def _where(self, endpoint_key: str) -> Any:
        from contact_sync.state.schema import rate_limits

        return (rate_limits.c.namespace == self.namespace) & (rate_limits.c.endpoint == endpoint_key)

    def _read(self, connection: Connection, endpoint_key: str, *, for_update: bool = False) -> _State | None:
        from sqlalchemy import select

        from contact_sync.state.schema import rate_limits

        query = select(
            rate_limits.c.tat, rate_limits.c.paused_until, rate_limits.c.rate, rate_limits.c.updated_at
        ).where(self._where(endpoint_key))
        if for_update:  # a row lock on PostgreSQL; SQLite holds the database's write lock already
            query = query.with_for_update()
        row = connection.execute(query).first()
        return _State(*row) if row is not None else None

    def _transact(self, op: str, endpoint_key: str, **kwargs: Any) -> _Outcome:
        """One short transaction: lock the endpoint's row, apply ``op``, write the result back, commit."""
        from sqlalchemy import update

        from contact_sync.state.schema import rate_limits
        from contact_sync.state.upsert import dialect_insert

        with self._lock, self.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # Write lock first, so no other process reads the row between our read and our write.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            connection.execute(
                dialect_insert(connection, rate_limits)
                .values(namespace=self.namespace, endpoint=endpoint_key, tat=0.0, paused_until=0.0,
                        rate=None, updated_at=0.0)
                .on_conflict_do_nothing(index_elements=["namespace", "endpoint"])
            )  # fmt: skip
            state = self._read(connection, endpoint_key, for_update=True)
            assert state is not None  # inserted above or already there, and locked
            outcome = _step(
                op, state, self._clock(), configured=self.configured_rate(endpoint_key), burst=self.burst,
                idle_ttl=self.idle_ttl, **kwargs,
            )  # fmt: skip
            if outcome.state is not None:
                connection.execute(
                    update(rate_limits).where(self._where(endpoint_key)).values(**outcome.state._asdict())
                )
            connection.commit()
        return outcome

    def _peek(self, endpoint_key: str) -> _Outcome:
        """Read the endpoint's state without a lock or a write."""
        with self.engine.connect() as connection:
            state = self._read(connection, endpoint_key) or _State(0.0, 0.0, None, 0.0)
        return _step(
            "peek", state, self._clock(), configured=self.configured_rate(endpoint_key), burst=self.burst,
            idle_ttl=self.idle_ttl,
        )  # fmt: skip

    def _run(self, call: Callable[[], _Outcome]) -> _Outcome:
        """``call()``, tried again after operational errors (lost connection, lock timeout) until the waits end."""
        from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
        from sqlalchemy.exc import TimeoutError as PoolTimeoutError

        waits = list(self.reconnect_waits)
        while True:
            try:
                return call()
            except SQLAlchemyError as error:
                transient = isinstance(error, OperationalError | InterfaceError | PoolTimeoutError) or (
                    isinstance(error, DBAPIError) and error.connection_invalidated
                )
                if not transient or not waits:
                    raise self._unavailable(error) from None
                wait = waits.pop(0)
                log.warning("%s: %s; trying again in %.1fs", self.source, type(error).__name__, wait)
                time.sleep(wait)

    # -- the RateLimiter interface -------------------------------------------------------------------------
    def check(self) -> None:
        """Read the table once. :raises RateLimiterUnavailable: the database is unreachable or not migrated."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            self._peek("")
        except SQLAlchemyError as error:
            raise self._unavailable(error) from None

    def reserve(self, endpoint_key: str) -> Reservation:
        """Reserve the next slot of ``endpoint_key`` (atomically, for every process sharing the database)."""
        outcome = self._run(lambda: self._transact("reserve", endpoint_key))
        return Reservation(max(0.0, outcome.send_at - self._clock()), outcome.send_at)

    def acquire(self, endpoint_key: str) -> None:
        """Block until a request to ``endpoint_key`` may be sent (a reserved slot, re-checked for pauses)."""
        slot = self.reserve(endpoint_key)
        while slot.delay > 0:
            self._sleep(slot.delay)
            # A pause began while sleeping: the slot is void, queue behind the pause. Else go (a read, no lock).
            paused_until = self._run(lambda: self._peek_paused(endpoint_key))
            if paused_until <= self._clock():
                return
            outcome = self._run(lambda: self._transact("confirm", endpoint_key))
            slot = Reservation(max(0.0, outcome.send_at - self._clock()), outcome.send_at)

    def _peek_paused(self, endpoint_key: str) -> float:
        from sqlalchemy import select

        from contact_sync.state.schema import rate_limits

        with self.engine.connect() as connection:
            value = connection.execute(
                select(rate_limits.c.paused_until).where(self._where(endpoint_key))
            ).scalar()
        return float(value or 0.0)

    def rate(self, endpoint_key: str) -> float:
        """The rate currently applied to ``endpoint_key`` by every process (after header corrections)."""
        return self._run(lambda: self._peek(endpoint_key)).rate

    def _apply(self, endpoint_key: str, *, seen: float, pause: float, spent: bool) -> tuple[float, bool]:
        outcome = self._run(
            lambda: self._transact("observe", endpoint_key, seen=seen, pause=pause, spent=spent)
        )
        return outcome.rate, outcome.lowered


def rate_limiter_conn_type(conn_id: str, *, respond_io_conn_id: str) -> str:
    """The type of the connection named by a respond.io connection's extra ``rate_limiter_conn_id``.

    :raises RateLimiterUnavailable: the connection cannot be read.
    """
    from airflow.sdk import BaseHook

    try:
        connection = BaseHook.get_connection(conn_id)
    except Exception as error:  # noqa: BLE001 - AirflowNotFoundException and whatever a secrets backend raises
        raise RateLimiterUnavailable(
            f"respond.io connection {respond_io_conn_id!r} names rate_limiter_conn_id {conn_id!r}, which cannot "
            f"be read ({type(error).__name__}); create it (type redis), point the extra at the state DB "
            "connection (e.g. contact_sync_state), or remove the extra"
        ) from None
    return (connection.conn_type or "").lower()


def state_db_rate_limiter(
    state_db_conn_id: str,
    *,
    respond_io_conn_id: str,
    namespace: str,
    rate_per_second: float = DEFAULT_RATE_PER_SECOND,
    endpoint_rates: Mapping[str, float] | None = None,
) -> StateDbRateLimiter:
    """The shared limiter for a respond.io connection whose ``rate_limiter_conn_id`` names a state DB connection.

    Builds an engine through :class:`hooks.state_db.StateDbHook` (type ``sqlite``, ``postgres`` or any type with
    extra ``sqlalchemy_url``; the password is masked) and reads the ``rate_limits`` table once.

    :param state_db_conn_id: the state DB connection (usually ``contact_sync_state``).
    :param respond_io_conn_id: the respond.io connection naming it (for messages).
    :param namespace: the organisation/workspace the limits belong to.
    :raises RateLimiterUnavailable: the database cannot be reached or is not migrated (table ``rate_limits``).
    """
    from sqlalchemy.engine import make_url

    from contact_sync.state import make_engine
    from hooks.state_db import StateDbHook

    fix = (
        f"start the database, or correct connection {state_db_conn_id!r}, and migrate it to the newest schema "
        f"(`contact-sync state migrate --conn-id {state_db_conn_id}`), or remove the extra "
        f"'rate_limiter_conn_id' from respond.io connection {respond_io_conn_id!r} (its per-process limiter only "
        "keeps the limit with a single worker)"
    )
    url = make_url(StateDbHook(state_db_conn_id=state_db_conn_id).sqlalchemy_url)
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg2", "psycopg"):
        kwargs["connect_args"] = {"connect_timeout": 5}
    limiter = StateDbRateLimiter(
        make_engine(url.render_as_string(hide_password=False), **kwargs),
        namespace=namespace,
        rate_per_second=rate_per_second,
        endpoint_rates=endpoint_rates,
        source=f"state DB connection {state_db_conn_id!r} ({url.render_as_string(hide_password=True)})",
        fix=fix,
    )
    limiter.check()
    log.info("respond.io %r: rate limits shared through %s", namespace, limiter.source)
    return limiter

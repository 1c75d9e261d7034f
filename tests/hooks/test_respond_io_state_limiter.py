"""StateDbRateLimiter on real SQLite and PostgreSQL state DBs, and separate processes against one stand-in.

Slot arithmetic is checked through the slot times the limiter computes (``Reservation.send_at``) on a frozen
clock, never by measuring how long something took. The key property (separate OS processes keep one endpoint
limit) reuses the process helpers of the Redis limiter's tests.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
from airflow.sdk import Connection
from hooks.respond_io_shared_limits import RateLimiterUnavailable
from hooks.respond_io_state_limits import StateDbRateLimiter
from sqlalchemy import select
from sqlalchemy.engine import make_url

from contact_sync.state import make_engine, migrate
from contact_sync.state.schema import rate_limits
from sandbox.process import free_port
from tests.hooks.respond_io_support import CONN_ID, connection, respond_io_hook
from tests.hooks.test_respond_io_shared_limiter import GET, PROCESSES, RATE, REQUESTS, _run_processes

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from sqlalchemy.engine import Engine

pytestmark = pytest.mark.integration

LIST = "POST /contact/list"
LIMITS_CONN_ID = "cs_limits_state"
T0 = 1_800_000_000.0  # a unix time; the frozen clock starts here


class FrozenClock:
    """A wall clock that only moves when told to (``sleep`` advances it)."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def make_limiter(state_engine: Engine, clock: FrozenClock) -> Iterator[Callable[..., StateDbRateLimiter]]:
    """``make_limiter(**kwargs)``: a limiter on its own engine (like another process), namespace ``org``."""
    url = state_engine.url.render_as_string(hide_password=False)
    engines: list[Engine] = []

    def make(**kwargs: Any) -> StateDbRateLimiter:
        engine = make_engine(url)
        engines.append(engine)
        kwargs.setdefault("namespace", "org")
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("sleep", clock.sleep)
        return StateDbRateLimiter(engine, **kwargs)

    yield make
    for engine in engines:
        engine.dispose()


def _send_times(slots: list[Any]) -> list[float]:
    return [round(slot.send_at - T0, 4) for slot in slots]  # µs-exact; rounding hides float noise


# -- semantics ------------------------------------------------------------------------------------------
def test_slots_are_spaced_at_the_rate_per_endpoint_in_one_row_each(make_limiter, state_engine):
    # arrange
    limiter = make_limiter(rate_per_second=2, endpoint_rates={LIST: 1})
    # act
    gets = [limiter.reserve(GET) for _ in range(4)]
    lists = [limiter.reserve(LIST) for _ in range(2)]
    # assert: the first slot at once, then one every 1/rate s, per endpoint
    assert _send_times(gets) == [0.0, 0.5, 1.0, 1.5]
    assert [g.delay for g in gets] == pytest.approx([0.0, 0.5, 1.0, 1.5])
    assert _send_times(lists) == [0.0, 1.0]
    with state_engine.connect() as conn:
        rows = conn.execute(select(rate_limits).order_by(rate_limits.c.endpoint)).all()
    assert [(r.namespace, r.endpoint, r.tat - T0, r.rate, r.updated_at) for r in rows] == [
        ("org", GET, 2.0, None, T0),
        ("org", LIST, 2.0, None, T0),
    ]


def test_burst_lets_an_idle_endpoint_send_at_once(make_limiter):
    limiter = make_limiter(rate_per_second=1, burst=3)
    slots = [limiter.reserve(GET) for _ in range(4)]
    assert _send_times(slots) == [0.0, 0.0, 0.0, 1.0]


def test_limiters_in_one_namespace_share_one_queue(make_limiter):
    # arrange: two limiters on separate engines, as in two worker processes; a third in another namespace
    first, second = make_limiter(rate_per_second=4), make_limiter(rate_per_second=4)
    other = make_limiter(rate_per_second=4, namespace="other-org")
    # act
    slots = [limiter.reserve(GET) for limiter in (first, second, first, second)]
    elsewhere = [other.reserve(GET) for _ in range(2)]
    # assert
    assert _send_times(slots) == [0.0, 0.25, 0.5, 0.75]
    assert _send_times(elsewhere) == [0.0, 0.25]


def test_concurrent_reservations_never_share_a_slot(make_limiter):
    # arrange: 2 "processes" x 4 threads x 10 reservations, all at the same frozen instant
    limiters = [make_limiter(rate_per_second=10), make_limiter(rate_per_second=10)]
    slots: list[Any] = []
    lock = threading.Lock()

    def work(limiter: StateDbRateLimiter) -> None:
        mine = [limiter.reserve(GET) for _ in range(10)]
        with lock:
            slots.extend(mine)

    threads = [threading.Thread(target=work, args=(lim,)) for lim in limiters for _ in range(4)]
    # act
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # assert: 80 distinct slots, exactly one every 0.1 s (a lost update would repeat one)
    assert sorted(_send_times(slots)) == [round(i * 0.1, 4) for i in range(80)]


def test_retry_after_and_spent_budget_pause_every_process(make_limiter, clock):
    # arrange
    seeing, other = make_limiter(rate_per_second=100), make_limiter(rate_per_second=100)
    spent = make_limiter(rate_per_second=2)
    # act: one process sees a 429 with Retry-After: 3; another a spent budget (no Retry-After)
    seeing.observe(GET, limit=100, remaining=0, retry_after=3)
    paused = [other.reserve(GET) for _ in range(2)]
    spent.observe(LIST, limit=2, remaining=0)
    after_spent = spent.reserve(LIST)
    seeing.observe(GET, retry_after=1)  # a shorter pause never shortens the running one
    later = other.reserve(GET)
    # assert
    assert _send_times(paused) == [3.0, 3.01]
    assert _send_times([after_spent]) == [0.5]  # one interval; an idle endpoint's first slot would be at once
    assert _send_times([later]) == [3.02]


def test_server_limit_lowers_the_rate_everywhere_and_lapses_when_idle(make_limiter, clock, caplog):
    # arrange: configured 100/s, the server says 4
    seeing = make_limiter(rate_per_second=100, idle_ttl=60)
    other = make_limiter(rate_per_second=100, idle_ttl=60)
    # act
    with caplog.at_level(logging.WARNING, logger="hooks.respond_io_state_limits"):
        seeing.observe(GET, limit=4, remaining=3)
    slots = [other.reserve(GET) for _ in range(3)]
    seeing.observe(GET, limit=1000, remaining=999)  # never raised above ours; costs no transaction
    seeing.observe(GET, limit=10, remaining=9)  # nor above the lowered one
    lowered = (other.rate(GET), seeing.rate(GET), other.rate(LIST))
    clock.now += 0.75 + 60  # the last slot ends at +0.75; then idle_ttl without traffic
    # assert
    assert _send_times(slots) == [0.0, 0.25, 0.5]
    assert lowered == (4.0, 4.0, 100.0)  # other endpoints keep the configured rate
    assert "limit of 4" in caplog.text
    assert other.rate(GET) == 100.0
    assert _send_times([other.reserve(GET)]) == [60.75]  # a fresh queue at the configured rate


def test_acquire_re_reserves_when_a_pause_began_while_it_slept(make_limiter, clock):
    # arrange: the endpoint is busy for 0.1 s; while our thread sleeps, another process sees Retry-After: 1
    other = make_limiter(rate_per_second=10)
    other.reserve(GET)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        if not sleeps:
            other.observe(GET, retry_after=1.0)
        sleeps.append(seconds)
        clock.sleep(seconds)

    limiter = make_limiter(rate_per_second=10, sleep=sleep)
    control_sleeps: list[float] = []

    def control_sleep(seconds: float) -> None:
        control_sleeps.append(seconds)
        clock.sleep(seconds)

    control = make_limiter(rate_per_second=10, namespace="control", sleep=control_sleep)
    # act
    control.reserve(GET)
    control.acquire(GET)
    clock.now = T0
    limiter.acquire(GET)
    # assert: the first slot (at +0.1) was void, a second one was reserved behind the pause (at +1.0)
    assert sleeps == pytest.approx([0.1, 0.9])
    assert control_sleeps == pytest.approx([0.1])  # without a pause: one reservation, one sleep


def test_database_lost_mid_run_fails_acquire_but_not_observe(caplog):
    # arrange: a limiter whose PostgreSQL is not there (a closed port)
    engine = make_engine(f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/gone")
    limiter = StateDbRateLimiter(
        engine, namespace="org", source="state DB connection 'gone'", reconnect_waits=(0.01, 0.01)
    )
    # act / assert
    with caplog.at_level(logging.WARNING, logger="hooks.respond_io_state_limits"):
        with pytest.raises(RateLimiterUnavailable, match="'gone'.*OperationalError.*Fix: "):
            limiter.acquire(GET)
        tries = caplog.text.count("trying again")
        limiter.observe(GET, retry_after=1)  # the response in hand still reaches the caller
    engine.dispose()
    assert tries == 2  # two more attempts before giving up
    assert caplog.text.count("cannot use state DB connection 'gone'") == 1  # observe's failure, logged


# -- wiring in the hook ---------------------------------------------------------------------------------
def _limits_conn_env(url: str, *, password: str | None = None, port: int | None = None) -> dict[str, str]:
    """``AIRFLOW_CONN_CS_LIMITS_STATE``: a sqlite or postgres connection to the state DB at ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn = Connection(conn_id=LIMITS_CONN_ID, conn_type="sqlite", host=parsed.database)
    else:
        conn = Connection(
            conn_id=LIMITS_CONN_ID, conn_type="postgres", host=parsed.host, port=port or parsed.port,
            login=parsed.username, password=password, schema=parsed.database,
        )  # fmt: skip
    return {f"AIRFLOW_CONN_{LIMITS_CONN_ID.upper()}": conn.as_json()}


def test_hook_with_a_state_db_connection_uses_the_state_db_limiter(respond_io, state_db_conn):
    # arrange: rate_limiter_conn_id names cs_state, a sqlite connection to a migrated state DB
    with respond_io_hook(respond_io, rate_limiter_conn_id="cs_state", rate_limits={GET: 3}) as hook:
        # act
        limiter = hook.limiter
        result = hook.get_contact("email:nobody@example.com")
        ok, message = hook.test_connection()
    # assert
    assert isinstance(limiter, StateDbRateLimiter) and limiter.namespace == CONN_ID
    assert limiter.configured_rate(GET) == 3.0 and limiter.configured_rate(LIST) == 1000.0
    assert limiter.source.startswith("state DB connection 'cs_state' (sqlite:///")
    assert result.status == 404
    assert ok and "rate limit shared through state DB connection 'cs_state'" in message
    engine = make_engine(state_db_conn)
    with engine.connect() as conn:
        endpoints = set(
            conn.execute(select(rate_limits.c.endpoint).where(rate_limits.c.namespace == CONN_ID)).scalars()
        )
    engine.dispose()
    assert GET in endpoints


def test_unmigrated_state_db_fails_the_call_with_a_clear_error(respond_io, tmp_path: Path):
    # arrange: a sqlite connection to a database nobody migrated
    env = _limits_conn_env(f"sqlite:///{tmp_path / 'empty.db'}")
    with (
        mock.patch.dict(os.environ, env),
        respond_io_hook(respond_io, rate_limiter_conn_id=LIMITS_CONN_ID) as hook,
    ):
        # act
        with pytest.raises(RateLimiterUnavailable) as built:
            _ = hook.limiter
        with pytest.raises(RateLimiterUnavailable):
            hook.get_contact("email:nobody@example.com")  # raised, not a per-contact CallResult
    # assert
    message = str(built.value)
    assert f"state DB connection {LIMITS_CONN_ID!r} (sqlite:///" in message
    assert "no such table: rate_limits" in message and "contact-sync state migrate" in message
    assert f"respond.io connection {CONN_ID!r}" in message and "rate_limiter_conn_id" in message
    assert respond_io.counters()["total"] == 0  # nothing was sent unlimited


def test_unreachable_state_db_is_named_without_its_password(respond_io):
    # arrange: a postgres connection to a closed port
    port, password = free_port(), "s3cret-state-pw"
    env = _limits_conn_env(f"postgresql+psycopg2://cs@127.0.0.1:{port}/state", password=password)
    with (
        mock.patch.dict(os.environ, env),
        respond_io_hook(respond_io, rate_limiter_conn_id=LIMITS_CONN_ID) as hook,
    ):
        # act
        with pytest.raises(RateLimiterUnavailable) as built:
            _ = hook.limiter
    # assert
    message = str(built.value)
    assert (
        f"state DB connection {LIMITS_CONN_ID!r} (postgresql+psycopg2://cs:***@127.0.0.1:{port}/state)"
        in message
    )
    assert "OperationalError" in message and "Fix: start the database" in message
    assert password not in message


def test_missing_limiter_connection_names_both_kinds(respond_io):
    with respond_io_hook(respond_io, rate_limiter_conn_id="no_such_conn") as hook:
        with pytest.raises(RateLimiterUnavailable, match="'no_such_conn'.*type redis.*contact_sync_state"):
            _ = hook.limiter


# -- the key property: separate OS processes, one respond.io organisation ------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_separate_processes_keep_the_organisation_limit_through_the_state_db(
    respond_io, request: pytest.FixtureRequest, tmp_path: Path, backend: str
):
    """Two processes, each configured at rate L, send 40 lookups each to one endpoint limited to L.

    Through the state DB: exactly 0 x 429, every lookup answered at the first attempt (see the Redis variant
    of this test for why none may appear). The control, per-process limiters in the same setup (same helpers,
    L, processes and requests), draws 429s: ``test_separate_processes_keep_the_organisation_limit_only_when_shared
    [in_process]`` in ``test_respond_io_shared_limiter.py``, which proves this count can fail.
    """
    # arrange
    respond_io.set_rate_limit(endpoints={GET: RATE})
    url = (
        f"sqlite:///{tmp_path / 'state.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_database_url")
    )
    engine = make_engine(url)
    migrate(engine)
    extras = {
        "rate_limit_per_second": RATE,
        "rate_limiter_conn_id": LIMITS_CONN_ID,
        "rate_limiter_namespace": f"org-{uuid.uuid4().hex[:8]}",
    }
    env = {
        **_limits_conn_env(url),
        f"AIRFLOW_CONN_{CONN_ID.upper()}": connection(respond_io, **extras).as_json(),
    }
    # act
    results = _run_processes(env)
    # assert
    statuses = respond_io.counters()["by_endpoint"].get(GET, {})
    assert [r["limiter"] for r in results] == ["StateDbRateLimiter"] * PROCESSES
    assert statuses == {"404": PROCESSES * REQUESTS}  # every lookup answered, none refused
    assert all(r["statuses"] == {404: REQUESTS} and r["attempts"] == REQUESTS for r in results)
    with engine.connect() as conn:
        rows = conn.execute(select(rate_limits.c.namespace, rate_limits.c.endpoint)).all()
    engine.dispose()
    assert rows == [(extras["rate_limiter_namespace"], GET)]  # both processes used one row

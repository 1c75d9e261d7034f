"""RedisRateLimiter on the real Redis (127.0.0.1:6379, db 7), and separate processes against one stand-in.

Each test uses its own key namespace and deletes its keys afterwards. Reservations are checked through the slot
times Redis computes (``Reservation.send_at``, server clock), never by measuring how long something took.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
import redis
from airflow.sdk import Connection
from hooks.respond_io_limits import InProcessRateLimiter
from hooks.respond_io_shared_limits import (
    KEY_PREFIX,
    RateLimiterUnavailable,
    RedisRateLimiter,
    redis_url,
)

from sandbox.process import free_port
from tests.hooks.respond_io_support import CONN_ID, connection, respond_io_hook

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.integration

REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 7
REDIS_CONN_ID = "cs_ratelimit_redis"
GET = "GET /contact/{identifier}"
LIST = "POST /contact/list"


def _redis_conn_env(*, port: int = REDIS_PORT, password: str | None = None) -> dict[str, str]:
    conn = Connection(
        conn_id=REDIS_CONN_ID, conn_type="redis", host=REDIS_HOST, port=port, password=password,
        extra=json.dumps({"db": REDIS_DB}),
    )  # fmt: skip
    return {f"AIRFLOW_CONN_{REDIS_CONN_ID.upper()}": conn.as_json()}


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    yield client
    client.close()


@pytest.fixture
def namespace(redis_client: redis.Redis) -> Iterator[str]:
    """A fresh namespace; its keys are deleted after the test."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    keys = list(redis_client.scan_iter(f"{KEY_PREFIX}:{name}:*"))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture
def make_limiter(namespace: str) -> Iterator[Callable[..., RedisRateLimiter]]:
    """``make_limiter(**kwargs)``: a limiter on its own Redis client (like another process) in the namespace."""
    clients: list[redis.Redis] = []

    def make(**kwargs: Any) -> RedisRateLimiter:
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
        clients.append(client)
        kwargs.setdefault("namespace", namespace)
        return RedisRateLimiter(client, **kwargs)

    yield make
    for client in clients:
        client.close()


# -- semantics ------------------------------------------------------------------------------------------
def test_slots_are_spaced_at_the_rate_per_endpoint_and_keys_expire(make_limiter, redis_client, namespace):
    # arrange
    limiter = make_limiter(rate_per_second=2, endpoint_rates={LIST: 1}, idle_ttl=60)
    # act
    gets = [limiter.reserve(GET) for _ in range(4)]
    lists = [limiter.reserve(LIST) for _ in range(2)]
    # assert: the first slot at once, then one every 1/rate s, per endpoint
    assert gets[0].delay == 0 and lists[0].delay == 0
    assert [b.send_at - a.send_at for a, b in zip(gets, gets[1:], strict=False)] == pytest.approx(
        [0.5] * 3, abs=1e-5
    )
    assert lists[1].send_at - lists[0].send_at == pytest.approx(1.0, abs=1e-5)
    key = f"{KEY_PREFIX}:{namespace}:{GET}"
    assert limiter.key(GET) == key
    assert 0 < redis_client.pttl(key) <= (60 + 2) * 1000  # idle TTL after the last reserved slot
    assert redis_client.exists(f"{KEY_PREFIX}:{namespace}:{LIST}")


def test_burst_lets_an_idle_endpoint_send_at_once(make_limiter):
    # arrange
    limiter = make_limiter(rate_per_second=1, burst=3)
    # act
    slots = [limiter.reserve(GET) for _ in range(4)]
    # assert
    assert [s.delay for s in slots[:3]] == [0, 0, 0]
    assert slots[3].send_at - slots[0].send_at == pytest.approx(1.0, abs=1e-5)


def test_limiters_in_one_namespace_share_one_queue(make_limiter):
    # arrange: two limiters on separate Redis clients, as in two worker processes; a third elsewhere
    first, second = make_limiter(rate_per_second=4), make_limiter(rate_per_second=4)
    other = make_limiter(rate_per_second=4, namespace=f"other-{uuid.uuid4().hex[:12]}")
    # act
    slots = [limiter.reserve(GET) for limiter in (first, second, first, second)]
    elsewhere = [other.reserve(GET) for _ in range(2)]
    other.client.delete(other.key(GET))
    # assert: one queue across both; the other namespace has its own
    assert [b.send_at - a.send_at for a, b in zip(slots, slots[1:], strict=False)] == pytest.approx(
        [0.25] * 3, abs=1e-5
    )
    assert elsewhere[0].delay == 0 and elsewhere[1].send_at - elsewhere[0].send_at == pytest.approx(0.25)


def test_retry_after_and_spent_budget_pause_every_process(make_limiter):
    # arrange
    seeing, other = make_limiter(rate_per_second=100), make_limiter(rate_per_second=100)
    # act: one process sees a 429 with Retry-After: 3
    seeing.observe(GET, limit=100, remaining=0, retry_after=3)
    paused = other.reserve(GET)
    spent = make_limiter(rate_per_second=2)
    spent.observe(LIST, limit=2, remaining=0)  # budget spent, no Retry-After: one interval
    after_spent = spent.reserve(LIST)
    # assert
    assert 2.0 < paused.delay <= 3.0
    assert 0 < after_spent.delay <= 0.5  # an idle endpoint's first slot would be at once


def test_server_limit_lowers_the_rate_everywhere_and_never_raises_it(make_limiter, caplog):
    # arrange: configured 100/s, the server says 4
    seeing, other = make_limiter(rate_per_second=100), make_limiter(rate_per_second=100)
    # act
    with caplog.at_level(logging.WARNING, logger="hooks.respond_io_shared_limits"):
        seeing.observe(GET, limit=4, remaining=3)
    slots = [other.reserve(GET) for _ in range(3)]
    seeing.observe(GET, limit=1000, remaining=999)
    seeing.observe(GET, limit=10, remaining=9)
    # assert
    assert other.rate(GET) == 4.0 and seeing.rate(GET) == 4.0
    assert [b.send_at - a.send_at for a, b in zip(slots, slots[1:], strict=False)] == pytest.approx(
        [0.25] * 2, abs=1e-5
    )
    assert other.rate(LIST) == 100.0  # other endpoints keep the configured rate
    assert "limit of 4" in caplog.text


def test_a_lowered_rate_lapses_once_the_server_stops_reporting_it(make_limiter):
    # arrange
    limiter = make_limiter(rate_per_second=100, idle_ttl=0.2)
    limiter.observe(GET, limit=4)
    lowered = limiter.rate(GET)
    # act: no response reports the low limit for longer than idle_ttl
    time.sleep(0.3)
    # assert
    assert lowered == 4.0 and limiter.rate(GET) == 100.0


def test_acquire_re_reserves_when_a_pause_began_while_it_slept(make_limiter):
    # arrange: the endpoint is busy for 0.1 s; while our thread sleeps, another process sees Retry-After: 1
    other = make_limiter(rate_per_second=10)
    other.reserve(GET)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        if not sleeps:
            other.observe(GET, retry_after=1.0)
        sleeps.append(seconds)
        time.sleep(seconds)

    limiter = make_limiter(rate_per_second=10, sleep=sleep)
    control_sleeps: list[float] = []
    control = make_limiter(
        rate_per_second=10, namespace=f"control-{uuid.uuid4().hex[:12]}", sleep=control_sleeps.append
    )
    # act
    control.reserve(GET)
    control.acquire(GET)
    limiter.acquire(GET)
    control.client.delete(control.key(GET))
    # assert: the first slot was void, a second one was reserved behind the pause
    assert len(sleeps) == 2
    assert 0 < sleeps[1] <= 1.0
    assert len(control_sleeps) == 1  # without a pause: one reservation, one sleep


# -- wiring in the hook ---------------------------------------------------------------------------------
def test_hook_without_the_extra_uses_the_in_process_limiter(respond_io):
    with respond_io_hook(respond_io, rate_limit_per_second=7) as hook:
        limiter = hook.limiter
    assert isinstance(limiter, InProcessRateLimiter)
    assert limiter.rate(GET) == 7.0


def test_hook_with_the_extra_uses_the_shared_limiter(respond_io, namespace):
    # arrange
    with mock.patch.dict(os.environ, _redis_conn_env()):
        with respond_io_hook(respond_io, rate_limiter_conn_id=REDIS_CONN_ID, rate_limits={GET: 3}) as hook:
            # act
            limiter = hook.limiter
            result = hook.get_contact("email:nobody@example.com")
        with respond_io_hook(
            respond_io, rate_limiter_conn_id=REDIS_CONN_ID, rate_limiter_namespace=namespace
        ) as named:
            named_limiter = named.limiter
            named.get_contact("email:nobody@example.com")
    limiter.client.delete(limiter.key(GET))
    # assert
    assert isinstance(limiter, RedisRateLimiter) and limiter.namespace == CONN_ID
    assert limiter.configured_rate(GET) == 3.0 and limiter.configured_rate(LIST) == 1000.0
    assert limiter.source == f"Redis connection {REDIS_CONN_ID!r} (redis://127.0.0.1:6379/7)"
    assert result.status == 404
    assert isinstance(named_limiter, RedisRateLimiter) and named_limiter.namespace == namespace
    assert named_limiter.client.exists(named_limiter.key(GET))


def test_unreachable_redis_fails_the_call_with_a_clear_error(respond_io):
    # arrange: the Redis connection points at a closed port
    port = free_port()
    password = "s3cret-redis-pw"
    with mock.patch.dict(os.environ, _redis_conn_env(port=port, password=password)):
        with respond_io_hook(respond_io, rate_limiter_conn_id=REDIS_CONN_ID) as hook:
            # act
            with pytest.raises(RateLimiterUnavailable) as built:
                _ = hook.limiter
            with pytest.raises(RateLimiterUnavailable):
                hook.get_contact("email:nobody@example.com")  # raised, not a per-contact CallResult
    # assert
    message = str(built.value)
    assert f"Redis connection {REDIS_CONN_ID!r} (redis://:***@127.0.0.1:{port}/7)" in message
    assert "ConnectionError" in message
    assert f"respond.io connection {CONN_ID!r}" in message and "rate_limiter_conn_id" in message
    assert password not in message
    assert respond_io.counters()["total"] == 0  # nothing was sent unlimited


def test_missing_redis_connection_is_named(respond_io):
    with respond_io_hook(respond_io, rate_limiter_conn_id="no_such_redis") as hook:
        with pytest.raises(RateLimiterUnavailable, match="'no_such_redis'.*create it"):
            _ = hook.limiter


def test_redis_lost_mid_run_fails_acquire_but_not_observe(namespace, caplog):
    # arrange: a limiter whose Redis went away after it was built
    limiter = RedisRateLimiter(
        redis.Redis(host=REDIS_HOST, port=free_port(), db=REDIS_DB),
        namespace=namespace,
        source="Redis connection 'gone'",
        reconnect_waits=(0.01, 0.01),
    )
    # act / assert
    with caplog.at_level(logging.WARNING, logger="hooks.respond_io_shared_limits"):
        with pytest.raises(RateLimiterUnavailable, match="'gone'.*Fix: "):
            limiter.acquire(GET)
        tries = caplog.text.count("trying again")
        limiter.observe(GET, retry_after=1)  # the response in hand still reaches the caller
    assert tries == 2  # two more attempts before giving up
    assert caplog.text.count("cannot use Redis connection 'gone'") == 1  # observe's failure, logged


def _start_redis_server(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host=REDIS_HOST, port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    client.close()
    return server


def test_a_redis_restart_mid_run_is_ridden_out(namespace, caplog):
    assert shutil.which("redis-server"), (
        "needs the redis-server binary: run the tests through ./dev test (it installs it)"
    )
    # arrange: our own Redis server, which restarts between two requests
    port = free_port()
    servers = [_start_redis_server(port)]
    limiter = RedisRateLimiter(redis.Redis(host=REDIS_HOST, port=port), namespace=namespace)
    restart = threading.Timer(0.1, lambda: servers.append(_start_redis_server(port)))
    try:
        limiter.acquire(GET)
        servers[0].terminate()
        servers[0].wait(timeout=10)
        restart.start()
        # act
        with caplog.at_level(logging.WARNING, logger="hooks.respond_io_shared_limits"):
            limiter.acquire(GET)
        # assert: reconnected within the retry window; the new server holds the endpoint's state
        assert "trying again" in caplog.text
        assert limiter.client.exists(limiter.key(GET))
    finally:
        if restart.is_alive():
            restart.join()
        limiter.client.close()
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


def test_redis_url_from_connection():
    conn = Connection(conn_id="r", conn_type="redis", host="redis.internal", port=6380, login="app",
                      password="p@ss:/w", extra=json.dumps({"db": "3", "ssl": True}))  # fmt: skip
    assert redis_url(conn) == "rediss://app:p%40ss%3A%2Fw@redis.internal:6380/3"
    assert redis_url(conn, redact=True) == "rediss://app:***@redis.internal:6380/3"
    assert redis_url(Connection(conn_id="d", conn_type="redis", extra=json.dumps({"db": ""}))) == (
        "redis://localhost:6379/0"
    )
    with pytest.raises(ValueError, match="'db' must be an integer"):
        redis_url(Connection(conn_id="x", conn_type="redis", extra=json.dumps({"db": "seven"})))


# -- the key property: separate OS processes, one respond.io organisation ------------------------------------
RATE = 20  # L: the stand-in's limit on the looked-up endpoint, and each client's configured rate
# One thread per process: the property under test is between processes (threads share one limiter in both
# modes). More threads per process only make the in-process limiters back off harder on
# ``X-RateLimit-Remaining: 0`` (a pause voids the slots of sleeping sibling threads), hiding the 429s that
# prove this test can fail.
PROCESSES, REQUESTS, THREADS = 2, 40, 1


def _lookups(env: dict[str, str], prefix: str, barrier: Any, results: Any) -> None:
    """One worker process: its own RespondIoHook; ``REQUESTS`` lookups from ``THREADS`` threads."""
    os.environ.update(env)
    from hooks.respond_io import RespondIoHook

    hook = RespondIoHook(CONN_ID)
    _ = hook.session, hook.limiter
    barrier.wait(timeout=60)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        calls = list(pool.map(lambda i: hook.get_contact(f"email:{prefix}.{i}@example.com"), range(REQUESTS)))
    results.put(
        {
            "limiter": type(hook.limiter).__name__,
            "statuses": dict(Counter(c.status for c in calls)),
            "attempts": sum(c.attempts for c in calls),
        }
    )


def _run_processes(env: dict[str, str]) -> list[dict[str, Any]]:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [
        ctx.Process(target=_lookups, args=(env, f"p{n}", barrier, results), daemon=True)
        for n in range(PROCESSES)
    ]
    for proc in procs:
        proc.start()
    try:
        return [results.get(timeout=120) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()


@pytest.mark.slow
@pytest.mark.parametrize("shared", [True, False], ids=["redis", "in_process"])
def test_separate_processes_keep_the_organisation_limit_only_when_shared(respond_io, namespace, shared):
    """Two processes, each configured at rate L, send 40 lookups each to one endpoint limited to L.

    Shared: exactly 0 x 429, every lookup answered at the first attempt. The stand-in's bucket holds one second of
    requests (L tokens) and the limiter never lets a request go before its reserved slot (it can only be late), so
    a 429 would need a process to stall for about a second and then fire a backlog; we allow none.

    In-process: together the processes send 2L/s, so the 80 requests take ~2 s while the stand-in supplies L + 2L
    = 60 tokens: it must refuse some. Only a few 429s appear (each one pauses its process for ``Retry-After``,
    1 s, and ``X-RateLimit-Remaining: 0`` pauses it one interval), but never none: this proves the test can fail.
    """
    # arrange
    respond_io.set_rate_limit(endpoints={GET: RATE})
    extras: dict[str, Any] = {"rate_limit_per_second": RATE}
    if shared:
        extras.update(rate_limiter_conn_id=REDIS_CONN_ID, rate_limiter_namespace=namespace)
    env = {f"AIRFLOW_CONN_{CONN_ID.upper()}": connection(respond_io, **extras).as_json(), **_redis_conn_env()}
    # act
    results = _run_processes(env)
    # assert
    statuses = respond_io.counters()["by_endpoint"].get(GET, {})
    expected = "RedisRateLimiter" if shared else "InProcessRateLimiter"
    assert [r["limiter"] for r in results] == [expected] * PROCESSES
    if shared:
        assert statuses == {"404": PROCESSES * REQUESTS}  # every lookup answered, none refused
        assert all(r["statuses"] == {404: REQUESTS} and r["attempts"] == REQUESTS for r in results)
    else:
        assert statuses.get("429", 0) > 0

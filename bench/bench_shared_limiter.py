"""Benchmark of the shared respond.io rate limiters: several worker processes, one organisation limit.

Starts the respond.io stand-in limited to L requests/s per endpoint, then for 2 and 4 worker processes (spawned,
each with its own ``RespondIoHook`` and ``--threads`` threads) sends lookups (``GET /contact/{identifier}``,
answered 404) for ``--seconds`` seconds, once per backend: every process's connection pointing
(``rate_limiter_conn_id``) at one Redis (``redis``: :class:`hooks.respond_io_shared_limits.RedisRateLimiter`), at
a SQLite state DB (``state-sqlite``) or at a PostgreSQL state DB (``state-postgres``; both
:class:`hooks.respond_io_state_limits.StateDbRateLimiter`), and with a limiter per process (``in_process``:
``InProcessRateLimiter``, each process alone at L). Prints, per run: the requests the stand-in accepted
per second on that endpoint as a share of L, over the whole run (first..last answer; the stand-in's bucket starts
full, one second of requests, which only clients that overrun L get to spend) and after the first 2 s; each
process's share; the 429s it answered; requests per accepted one; and each shared backend's ratios to in-process.

    .venv/bin/python bench/bench_shared_limiter.py                        # L=50, 2 and 4 processes, 10 s each
    .venv/bin/python bench/bench_shared_limiter.py --rate 20 --seconds 5 --processes 2
    .venv/bin/python bench/bench_shared_limiter.py --backend state-sqlite state-postgres   # no Redis needed

Needs Redis on ``--redis-host``/``--redis-port`` (default 127.0.0.1:6379, db 7; ``./dev test`` starts one) for
``redis``, and PostgreSQL at ``--pg-url`` (an admin URL; default ``CONTACT_SYNC_PG_URL`` or the local trust-auth
server) for ``state-postgres``. Redis keys live under a namespace of their own and are deleted afterwards; the
state DBs are a temporary SQLite file and a temporary PostgreSQL database, dropped afterwards.
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT))
if "AIRFLOW_HOME" not in os.environ:  # keep Airflow from creating ~/airflow
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="bench-shared-limiter-airflow-")
    atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], ignore_errors=True)

TOKEN = "bench-token"  # noqa: S105 - throw-away token of the local stand-in
CONN_ID = "respond_io_bench"
REDIS_CONN_ID = "contact_sync_redis_bench"
STATE_CONN_ID = "contact_sync_state_bench"
BACKENDS = ("redis", "state-sqlite", "state-postgres")
GET = "GET /contact/{identifier}"


def _worker(
    env: dict[str, str], prefix: str, seconds: float, threads: int, barrier: Any, results: Any
) -> None:
    """One worker process: its own hook; ``threads`` threads look contacts up until ``seconds`` have passed."""
    os.environ.update(env)
    from hooks.respond_io import RespondIoHook

    logging.getLogger("hooks").setLevel(logging.WARNING)  # one INFO line per 429 retry otherwise

    hook = RespondIoHook(CONN_ID)
    _ = hook.session, hook.limiter
    barrier.wait(timeout=120)
    deadline = time.monotonic() + seconds

    def loop(thread: int) -> tuple[Counter[int], int, list[float]]:
        statuses: Counter[int] = Counter()
        attempts, answered, n = 0, [], 0
        while time.monotonic() < deadline:
            result = hook.get_contact(f"email:{prefix}.{thread}.{n}@example.com")
            # CLOCK_MONOTONIC is system-wide on Linux: comparable across the processes.
            answered.append(time.monotonic())
            statuses[result.status or 0] += 1
            attempts += result.attempts
            n += 1
        return statuses, attempts, answered

    with ThreadPoolExecutor(max_workers=threads) as pool:
        outs = list(pool.map(loop, range(threads)))
    statuses: Counter[int] = Counter()
    for out in outs:
        statuses.update(out[0])
    results.put(
        {
            "statuses": dict(statuses),
            "attempts": sum(o[1] for o in outs),
            "answered": sorted(t for o in outs for t in o[2]),
            "limiter": type(hook.limiter).__name__,
        }
    )


def _run(admin: Any, env: dict[str, str], processes: int, seconds: float, threads: int) -> dict[str, Any]:
    admin.reset()
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(processes), ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(env, f"p{n}", seconds, threads, barrier, results), daemon=True)
        for n in range(processes)
    ]
    for proc in procs:
        proc.start()
    try:
        outs = [results.get(timeout=seconds + 180) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    counters = admin.counters()["by_endpoint"].get(GET, {})
    answered = sorted(t for o in outs for t in o["answered"])
    begin, end = answered[0], answered[-1]
    # After the first 2 s the stand-in's bucket (one second of requests when full) no longer flatters anyone.
    steady = [t for t in answered if t >= begin + 2.0]
    per_process = [len(o["answered"]) / (end - begin) for o in outs]
    accepted = sum(n for status, n in counters.items() if status != "429")
    return {
        "accepted": accepted,
        "429": counters.get("429", 0),
        "window": end - begin,
        "rate": accepted / (end - begin),
        "steady": (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 else float("nan"),
        "spread": (min(per_process), max(per_process)),
        "requests_per_accepted": sum(counters.values()) / max(1, accepted),
        "failed": sum(n for o in outs for status, n in o["statuses"].items() if status != 404),
    }


def _state_connection(url: str) -> Any:
    """A ``sqlite`` or ``postgres`` Airflow connection to the state DB at ``url`` (as StateDbHook reads it)."""
    from airflow.sdk import Connection
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Connection(conn_id=STATE_CONN_ID, conn_type="sqlite", host=parsed.database)
    return Connection(
        conn_id=STATE_CONN_ID, conn_type="postgres", host=parsed.host, port=parsed.port, login=parsed.username,
        password=parsed.password, schema=parsed.database,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rate", type=float, default=50.0, help="stand-in limit L, requests/s per endpoint")
    parser.add_argument("--seconds", type=float, default=10.0, help="sending time per run")
    parser.add_argument("--processes", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--threads", type=int, default=8, help="threads per process")
    parser.add_argument(
        "--backend", nargs="+", choices=BACKENDS, default=list(BACKENDS),
        help="shared limiters to compare with the per-process one (default: all three)",
    )  # fmt: skip
    parser.add_argument("--redis-host", default="127.0.0.1")
    parser.add_argument("--redis-port", type=int, default=6379)
    parser.add_argument("--redis-db", type=int, default=7)
    parser.add_argument(
        "--pg-url", default=os.environ.get("CONTACT_SYNC_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL admin URL; state-postgres creates (and drops) a database there",
    )  # fmt: skip
    args = parser.parse_args()

    import redis
    from airflow.sdk import Connection

    from contact_sync.state import make_engine, migrate
    from sandbox.pg import create_database, drop_database
    from sandbox.process import start_server
    from sandbox.respond_io.admin_client import RespondIoAdmin

    client = redis.Redis(host=args.redis_host, port=args.redis_port, db=args.redis_db)
    if "redis" in args.backend:
        try:
            client.ping()
        except redis.ConnectionError:
            sys.exit(
                f"no Redis on {args.redis_host}:{args.redis_port}: start one (./dev test does), pass --redis-port, "
                "or leave redis out of --backend"
            )
    namespace = f"bench-{uuid.uuid4().hex[:12]}"
    state_dir = Path(tempfile.mkdtemp(prefix="bench-shared-limiter-state-"))
    state_urls: dict[str, str] = {}
    if "state-sqlite" in args.backend:
        state_urls["state-sqlite"] = f"sqlite:///{state_dir / 'state.db'}"
    if "state-postgres" in args.backend:
        try:
            state_urls["state-postgres"] = create_database(args.pg_url, "cs_bench")
        except Exception as error:  # noqa: BLE001 - reported, then the bench stops
            sys.exit(
                f"no PostgreSQL at --pg-url ({type(error).__name__}): start one or leave state-postgres out"
            )
    for url in state_urls.values():
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
    server = start_server(
        "sandbox.respond_io", ["--rate-limit", str(args.rate), "--token", TOKEN, "--log-level", "warning"]
    )
    modes = [*args.backend, "in_process"]
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    try:
        admin = RespondIoAdmin(server.url + "/__admin")
        redis_conn = Connection(
            conn_id=REDIS_CONN_ID, conn_type="redis", host=args.redis_host, port=args.redis_port,
            extra=json.dumps({"db": args.redis_db}),
        )  # fmt: skip
        for mode in modes:
            extra: dict[str, Any] = {"rate_limit_per_second": args.rate, "trust_env": False}
            env: dict[str, str] = {}
            if mode == "redis":
                extra.update(rate_limiter_conn_id=REDIS_CONN_ID, rate_limiter_namespace=namespace)
                env[f"AIRFLOW_CONN_{REDIS_CONN_ID.upper()}"] = redis_conn.as_json()
            elif mode in state_urls:
                extra.update(rate_limiter_conn_id=STATE_CONN_ID, rate_limiter_namespace=namespace)
                env[f"AIRFLOW_CONN_{STATE_CONN_ID.upper()}"] = _state_connection(state_urls[mode]).as_json()
            conn = Connection(
                conn_id=CONN_ID,
                conn_type="http",
                host=server.url + "/v2",
                password=TOKEN,
                extra=json.dumps(extra),
            )
            env[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = conn.as_json()
            for processes in args.processes:
                rows[mode, processes] = _run(admin, env, processes, args.seconds, args.threads)
    finally:
        server.stop()
        if "redis" in args.backend:
            keys = list(client.scan_iter(f"contact-sync:ratelimit:{namespace}:*"))
            if keys:
                client.delete(*keys)
        if "state-postgres" in state_urls:
            drop_database(args.pg_url, state_urls["state-postgres"])
        shutil.rmtree(state_dir, ignore_errors=True)

    rate = args.rate
    print(f"shared respond.io limiter: L = {rate:g} req/s on {GET}, {args.seconds:g} s per run, "
          f"{args.threads} threads per process; rates are accepted (non-429) requests/s as a share of L")  # fmt: skip
    print(f"  {'limiter':14s} {'procs':>5s} {'whole run':>9s} {'after 2 s':>9s} {'per process':>13s} {'429s':>5s} "
          f"{'req/accepted':>12s} {'failed':>6s} {'accepted':>8s} {'window':>7s}")  # fmt: skip
    for (mode, processes), row in rows.items():
        low, high = row["spread"]
        print(f"  {mode:14s} {processes:5d} {row['rate'] / rate:9.3f} {row['steady'] / rate:9.3f} "
              f"{low / rate:6.3f}-{high / rate:.3f} {row['429']:5d} {row['requests_per_accepted']:12.3f} "
              f"{row['failed']:6d} {row['accepted']:8d} {row['window']:6.2f}s")  # fmt: skip
    for processes in args.processes:
        local = rows["in_process", processes]
        for mode in args.backend:
            shared = rows[mode, processes]
            print(f"  {processes} processes, {mode} / in-process: whole run {shared['rate'] / local['rate']:.3f}, "
                  f"after 2 s {shared['steady'] / local['steady']:.3f}; 429s {shared['429']} vs {local['429']}")  # fmt: skip


if __name__ == "__main__":
    main()

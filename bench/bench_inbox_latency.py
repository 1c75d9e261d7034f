"""Inbox lookup latency over HTTP on a 1M-row lookup table: p50/p99 at a fixed offered rate, then max throughput.

    ./dev bench bench_inbox_latency [--rows 1000000] [--rate 500] [--seconds 20] [--concurrency 32]

Loads ``--rows`` lookup rows into a fresh SQLite state DB (executemany in one transaction), starts the inbox
service with uvicorn (1 worker, read-through off) as a child process, and drives ``GET /api/v1/lookup`` with an
async httpx client:

1. open loop at ``--rate`` requests/s for ``--seconds`` (requests are sent on schedule whatever the answers do;
   latency is measured from the scheduled send time, so queueing shows up as latency, no coordinated omission);
2. closed loop with ``--concurrency`` clients for ``--seconds``: the maximum throughput.

Queries are a mix of emails and phones as a person pastes them (mixed case, spaces, dashes), 90 % existing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx  # only to wait for the service

PROJECT_DIR = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"


def load_rows(url: str, rows: int) -> float:
    from sqlalchemy import insert

    from contact_sync.state import make_engine, migrate
    from contact_sync.state.lookup_store import set_watermark
    from contact_sync.state.schema import contacts_lookup

    engine = make_engine(url)
    migrate(engine)
    started = time.perf_counter()
    now = datetime.now(UTC)
    batch = []
    with engine.begin() as connection:
        for i in range(rows):
            batch.append(
                {
                    "sf_id": f"003{i:015d}",
                    "email_key": f"person{i}@example{i % 97}.com",
                    "phone_key": f"+1415{2_000_000 + i:07d}",
                    "first_name": f"First{i}",
                    "last_name": f"Last{i}",
                    "fields": {
                        "Email": f"Person{i}@Example{i % 97}.com",
                        "Phone": f"(415) {2_000_000 + i:07d}",
                        "Title": "CTO",
                    },
                    "system_modstamp": now,
                    "refreshed_at": now,
                    "email_ambiguous": False,
                    "phone_ambiguous": False,
                }
            )
            if len(batch) == 20_000:
                connection.execute(insert(contacts_lookup), batch)
                batch = []
        if batch:
            connection.execute(insert(contacts_lookup), batch)
    set_watermark(engine, now)
    engine.dispose()
    return time.perf_counter() - started


def queries(rows: int, count: int, seed: int = 7) -> list[dict[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        i = rng.randrange(rows) if rng.random() < 0.9 else rows + rng.randrange(rows)
        if rng.random() < 0.5:
            out.append({"email": f"  Person{i}@EXAMPLE{i % 97}.com "})
        else:
            digits = f"{2_000_000 + i % 8_000_000:07d}"
            out.append({"phone": f"+1 (415) {digits[:3]}-{digits[3:]}"})
    return out


def start_service(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CONTACT_SYNC_INBOX_STATE_DB_URL": url,
        "CONTACT_SYNC_INBOX_API_TOKEN": TOKEN,
        "CONTACT_SYNC_INBOX_READ_THROUGH": "false",
        "CONTACT_SYNC_INBOX_SESSION_SECRET": "bench",
        "CONTACT_SYNC_INBOX_SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com",
    }
    cmd = [sys.executable, "-m", "contact_sync_inbox", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(cmd, env=env, cwd=PROJECT_DIR)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the inbox service did not start")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class RawClient:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: the load generator must cost far less than the
    server it measures (httpx's async client costs several ms per request on this 2-core machine)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0

    async def get(self, path: str) -> int:
        reused = bool(self.idle)
        if reused:
            reader, writer = self.idle.pop()
        else:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.opened += 1
        try:
            return await self._exchange(reader, writer, path)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            if not reused:
                raise
            return await self.get(path)  # the server closed an idle keep-alive connection: reconnect

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> int:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await reader.readexactly(length)
        self.idle.append((reader, writer))
        return status

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


def paths(qs: list[dict[str, str]]) -> list[str]:
    from urllib.parse import urlencode

    return ["/api/v1/lookup?" + urlencode(q) for q in qs]


async def open_loop(port: int, qs: list[str], rate: float, seconds: float) -> dict[str, float]:
    client = RawClient(port)
    latencies: list[float] = []
    errors = 0

    async def one(path: str, scheduled: float) -> None:
        nonlocal errors
        status = await client.get(path)
        latencies.append(time.perf_counter() - scheduled)
        errors += status != 200

    for path in qs[:200]:  # warm-up
        await client.get(path)
    total = int(rate * seconds)
    start = time.perf_counter() + 0.1
    tasks = []
    for n in range(total):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(qs[n % len(qs)], scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    client.close()
    return {
        "sent": total,
        "achieved_rate": total / elapsed,
        "p50_ms": pct(latencies, 50) * 1000,
        "p90_ms": pct(latencies, 90) * 1000,
        "p99_ms": pct(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "errors": errors,
        "connections": client.opened,
    }


async def closed_loop(port: int, qs: list[str], concurrency: int, seconds: float) -> dict[str, float]:
    client = RawClient(port)
    done = 0
    errors = 0
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        nonlocal done, errors
        n = offset
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            status = await client.get(qs[n % len(qs)])
            latencies.append(time.perf_counter() - t0)
            done += 1
            errors += status != 200
            n += concurrency

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    client.close()
    return {"requests": done, "throughput_rps": done / elapsed, "p50_ms": pct(latencies, 50) * 1000,
            "p99_ms": pct(latencies, 99) * 1000, "errors": errors}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--db", help="reuse this SQLite file (loaded when missing)")
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT_DIR))
    from sandbox.process import free_port

    folder = Path(tempfile.mkdtemp(prefix="bench-inbox-"))
    db = Path(args.db) if args.db else folder / "state.db"
    url = f"sqlite:///{db}"
    if not db.exists():
        took = load_rows(url, args.rows)
        print(f"loaded {args.rows:,} lookup rows in {took:.1f} s ({args.rows / took:,.0f} rows/s)")
    port = free_port()
    process = start_service(url, port)
    qs = paths(queries(args.rows, 20_000))
    try:
        fixed = asyncio.run(open_loop(port, qs, args.rate, args.seconds))
        print(
            f"offered {args.rate:.0f} req/s for {args.seconds:.0f} s ({fixed['sent']:,} requests, achieved "
            f"{fixed['achieved_rate']:.0f}/s): p50 {fixed['p50_ms']:.2f} ms, p90 {fixed['p90_ms']:.2f} ms, "
            f"p99 {fixed['p99_ms']:.2f} ms, max {fixed['max_ms']:.1f} ms, errors {fixed['errors']}, "
            f"{fixed['connections']} connections"
        )
        peak = asyncio.run(closed_loop(port, qs, args.concurrency, args.seconds))
        print(
            f"max throughput ({args.concurrency} concurrent clients, {args.seconds:.0f} s): "
            f"{peak['throughput_rps']:.0f} req/s (p50 {peak['p50_ms']:.1f} ms, p99 {peak['p99_ms']:.1f} ms), "
            f"errors {peak['errors']}"
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()

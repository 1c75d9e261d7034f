"""End-to-end benchmark of the ``salesforce_contacts_sync`` DAG on the stand-ins, run by Airflow itself.

    ./dev bench bench_sync_e2e                       # 5,000 contacts, respond.io limited to 50 req/s per endpoint
    ./dev bench bench_sync_e2e --contacts 1000 --rate 20 --keep
    ./dev bench bench_sync_e2e --post-create-delay 0.5 --chunk-size 2500   # client wait = stand-in window

Options: ``--contacts N`` (5,000), ``--rate L`` (50), ``--keep`` (keep the temporary folders: the run's output,
both stand-ins' logs, the Airflow metadata DB and the state DB), ``--chunk-size`` (1,000), ``--max-in-flight`` (64),
``--post-create-delay`` (connection extra; the hook's default 1 s), ``--create-delay`` (stand-in, 0.5 s),
``--existing-share`` (0.05). Exit code 0 only when the DAG run succeeded and every contact has a final outcome.

Starts both stand-ins (respond.io with ``--rate-limit L --create-delay 0.5``), loads N demo contacts created in one
week into Salesforce and ~5 % of them as people already in respond.io, creates a throw-away AIRFLOW_HOME and state
DB, and runs ``python -m airflow dags test salesforce_contacts_sync`` over that week as a child process, wired like
``scripts/demo.py`` (env connections, ``CONTACT_SYNC_*`` settings). Then it prints, all from that one run:

- the busiest respond.io endpoint's calls/s as a fraction of L over the sync_chunk phase (target >= 0.95);
- respond.io calls per contact (read and written), by endpoint and status;
- the time outside respond.io calls, ``wall - busiest calls / L``, as a share of the wall time (target <= 10 %),
  with the phase breakdown (process start and DAG parse, extract, classify, sync chunks, finalize, exit);
- Salesforce API calls per 1,000 contacts;
- the peak RSS of the Airflow process (and of its process tree, sampled);
- the run summary from the state DB (outcomes add up, no ``retry_pending``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "salesforce_contacts_sync"
# generate_contacts' default window is the week [2026-10-25, 2026-11-01): a weekly cron makes it one interval,
# and a manual run dated at the window's end takes that interval.
WINDOW_START = datetime(2026, 10, 25, tzinfo=UTC)
WINDOW_END = datetime(2026, 11, 1, tzinfo=UTC)
SCHEDULE = "0 0 * * 0"
RUN_DATE = "2026-11-01T00:00:00+00:00"
CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"  # noqa: S105 - throw-away stand-in credentials
TOKEN = "bench-token"  # noqa: S105 - throw-away stand-in token
PHASES = ("extract", "classify", "sync_chunk", "finalize")


def _airflow_env(home: Path) -> dict[str, str]:
    """Environment of the Airflow children: a private AIRFLOW_HOME on SQLite, this project's DAGs and plugins."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "CONTACT_SYNC_"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "CONTACT_SYNC_CONFIG": str(ROOT / "include" / "contact_sync.yaml"),
        "CONTACT_SYNC_LOCAL_CONFIG": str(home / "no-local-settings.yaml"),
    })  # fmt: skip
    return env


def _connections_env(
    salesforce_url: str, ca_file: str, respond_io_url: str, state_db: Path, args: argparse.Namespace
) -> dict[str, str]:
    """The three connections as environment variables (an env connection wins over the metastore)."""
    from sandbox import connections

    extra: dict[str, Any] = {
        "rate_limit_per_second": args.rate,
        "max_in_flight": args.max_in_flight,
        "trust_env": False,
    }
    if args.post_create_delay is not None:
        extra["post_create_delay"] = args.post_create_delay
    return {
        "AIRFLOW_CONN_SALESFORCE_DEFAULT": connections.salesforce_connection(
            salesforce_url, CLIENT_ID, CLIENT_SECRET, ca_file, version="62.0"
        ),
        "AIRFLOW_CONN_RESPOND_IO_DEFAULT": connections.respond_io_connection(
            respond_io_url + "/v2", TOKEN, **extra
        ),
        "AIRFLOW_CONN_CONTACT_SYNC_STATE": connections.state_connection(path=str(state_db)),
    }


class TreeRssSampler(threading.Thread):
    """Samples the summed RSS of a process and its descendants (psutil) until stopped."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop_event.is_set():
            total = 0
            try:
                for proc in [root, *root.children(recursive=True)]:
                    try:
                        total += proc.memory_info().rss
                    except psutil.Error:
                        continue
            except psutil.Error:
                return
            self.peak = max(self.peak, total)
            self._stop_event.wait(self.every)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


def run_dag(env: dict[str, str], log_path: Path) -> dict[str, Any]:
    """``airflow dags test`` as a child; returns its exit code, wall time, peak RSS and start/end (UTC)."""
    command = [sys.executable, "-m", "airflow", "dags", "test", DAG_ID, RUN_DATE]
    with log_path.open("wb") as log_file:
        started_at = datetime.now(UTC)
        began = time.monotonic()
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=ROOT)  # noqa: S603
        sampler = TreeRssSampler(process.pid)
        sampler.start()
        # wait4: this child's own rusage (ru_maxrss = the largest of it and the descendants it reaped).
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - began
        ended_at = datetime.now(UTC)
        process.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
    return {
        "command": command,
        "returncode": process.returncode,
        "wall": wall,
        "started_at": started_at,
        "ended_at": ended_at,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "tree_rss_mb": sampler.peak / 2**20,
        "cpu_s": usage.ru_utime + usage.ru_stime,
    }


def task_phases(airflow_db: Path) -> dict[str, dict[str, Any]]:
    """Start, end and state of each task (mapped tasks merged) from the run's task instances."""
    with sqlite3.connect(airflow_db) as connection:
        rows = connection.execute(
            "SELECT task_id, map_index, state, start_date, end_date, try_number FROM task_instance "
            "WHERE dag_id = ?",
            (DAG_ID,),
        ).fetchall()
    phases: dict[str, dict[str, Any]] = {}
    for task_id, _map_index, state, start, end, tries in rows:
        if not start or not end:
            continue
        start_dt, end_dt = _parse_db_time(start), _parse_db_time(end)
        phase = phases.setdefault(
            task_id,
            {"start": start_dt, "end": end_dt, "busy": 0.0, "count": 0, "states": Counter(), "tries": 0},
        )
        phase["start"], phase["end"] = min(phase["start"], start_dt), max(phase["end"], end_dt)
        phase["busy"] += (end_dt - start_dt).total_seconds()
        phase["count"] += 1
        phase["states"][state] += 1
        phase["tries"] = max(phase["tries"], tries or 0)
    return phases


def _parse_db_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def run_summary(state_db: Path) -> dict[str, Any]:
    from sqlalchemy import select

    from contact_sync.state import make_engine
    from contact_sync.state.schema import sync_runs

    engine = make_engine(f"sqlite:///{state_db}")
    with engine.connect() as connection:
        rows = connection.execute(select(sync_runs).order_by(sync_runs.c.id)).all()
    engine.dispose()
    if not rows:
        return {}
    row = rows[-1]
    return {**(row.details or {}), "status": row.status, "runs": len(rows)}


def main() -> int:  # noqa: PLR0915 - one linear script: set up, run, report
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--contacts", type=int, default=5000, help="Salesforce contacts in the window (N)")
    parser.add_argument(
        "--rate", type=float, default=50.0, help="respond.io stand-in limit L, req/s per endpoint"
    )
    parser.add_argument("--create-delay", type=float, default=0.5, help="respond.io post-create window, s")
    parser.add_argument("--max-in-flight", type=int, default=64, help="respond.io pipeline threads")
    parser.add_argument(
        "--post-create-delay",
        type=float,
        default=None,
        help="connection extra post_create_delay (hook default 1 s)",
    )
    parser.add_argument("--chunk-size", type=int, default=1000, help="contacts per mapped sync_chunk task")
    parser.add_argument("--existing-share", type=float, default=0.05, help="share already in respond.io")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders for inspection")
    args = parser.parse_args()

    from sandbox.certs import ensure_certificates
    from sandbox.demo_data import generate_contacts, generate_respond_io_existing, write_jsonl
    from sandbox.respond_io.admin_client import RespondIoAdmin, calls_between
    from sandbox.salesforce.client import SalesforceAdmin
    from sandbox.sync_deployment import start_standins

    work = Path(tempfile.mkdtemp(prefix="bench-sync-e2e-"))
    home, state_db = work / "airflow", work / "state.db"
    home.mkdir()
    servers = []
    try:
        # -- set up (not timed) --------------------------------------------------------------------------
        env = _airflow_env(home)
        migrate = subprocess.Popen(  # noqa: S603 - started first, runs while the data is prepared
            [sys.executable, "-m", "airflow", "db", "migrate"],
            stdout=(work / "db-migrate.log").open("wb"), stderr=subprocess.STDOUT, env=env, cwd=ROOT,
        )  # fmt: skip
        certs = ensure_certificates(work / "certs")
        salesforce, respond_io = start_standins(
            work, certs.ca_file, rate=args.rate, create_delay=args.create_delay, client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET, token=TOKEN,
        )  # fmt: skip
        servers += [salesforce, respond_io]
        sf_admin = SalesforceAdmin(salesforce.url, certs.ca_file)
        rio_admin = RespondIoAdmin(respond_io.url + "/__admin")

        contacts_file = work / "contacts.jsonl"
        write_jsonl(
            contacts_file, generate_contacts(args.contacts, seed=42, start=WINDOW_START, end=WINDOW_END)
        )
        loaded = sf_admin.load_file(str(contacts_file))
        if loaded != args.contacts:
            raise SystemExit(f"the Salesforce stand-in loaded {loaded} contacts, expected {args.contacts}")
        existing = generate_respond_io_existing(
            generate_contacts(args.contacts, seed=42, start=WINDOW_START, end=WINDOW_END),
            share=args.existing_share,
            seed=42,
        )
        rio_admin.seed_contacts(existing)

        from contact_sync.state import make_engine
        from contact_sync.state import migrate as migrate_state

        engine = make_engine(f"sqlite:///{state_db}")
        migrate_state(engine)
        engine.dispose()
        if migrate.wait() != 0:
            raise SystemExit(f"airflow db migrate failed; see {work / 'db-migrate.log'}")

        env.update(_connections_env(salesforce.url, certs.ca_file, respond_io.url, state_db, args))
        env.update({
            "CONTACT_SYNC_SCHEDULE": SCHEDULE,
            "CONTACT_SYNC_START_DATE": "2026-10-01T00:00:00+00:00",
            "CONTACT_SYNC_CHUNK_SIZE": str(args.chunk_size),
        })  # fmt: skip
        rio_before, sf_before = rio_admin.counters(), sf_admin.counters()

        # -- the run -------------------------------------------------------------------------------------
        run = run_dag(env, work / "dags-test.log")

        rio_after, sf_after = rio_admin.counters(), sf_admin.counters()
        phases = task_phases(home / "airflow.db")
        summary = run_summary(state_db)
        rio_contacts = rio_admin.contacts()
    finally:
        for server in reversed(servers):
            server.stop()

    report(
        args,
        run,
        phases,
        summary,
        calls_between(rio_before, rio_after),
        sf_before,
        sf_after,
        rio_contacts,
        existing,
    )
    if args.keep:
        print(f"  output of the run          {work / 'dags-test.log'}")
        print(f"  kept                       {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    ok = (
        run["returncode"] == 0
        and summary.get("adds_up")
        and not (summary.get("outcomes") or {}).get("retry_pending")
    )
    return 0 if ok else 1


def report(  # noqa: PLR0913, PLR0915 - prints every figure of one run
    args: argparse.Namespace,
    run: dict[str, Any],
    phases: dict[str, dict[str, Any]],
    summary: dict[str, Any],
    rio: dict[str, dict[str, int]],
    sf_before: dict[str, Any],
    sf_after: dict[str, Any],
    rio_contacts: list[dict[str, Any]],
    existing: list[dict[str, Any]],
) -> None:
    rate, wall = args.rate, run["wall"]
    post_create = "1 s" if args.post_create_delay is None else f"{args.post_create_delay:g} s"
    outcomes = {k: v for k, v in (summary.get("outcomes") or {}).items() if v}
    read = int(summary.get("read") or args.contacts)
    written = outcomes.get("created", 0) + outcomes.get("updated_existing", 0)
    total_rio = sum(sum(s.values()) for s in rio.values())
    served = {k: sum(n for s, n in v.items() if s.startswith("2") or s == "404") for k, v in rio.items()}
    busiest = max(served, key=served.__getitem__) if served else "-"
    busiest_calls = served.get(busiest, 0)
    total_429 = sum(v.get("429", 0) for v in rio.values())
    sync = phases.get("sync_chunk")
    sync_seconds = (sync["end"] - sync["start"]).total_seconds() if sync else float("nan")
    busy_seconds = sync["busy"] if sync else float("nan")
    in_calls = busiest_calls / rate
    outside = wall - in_calls
    sf_calls = sf_after["total"] - sf_before["total"]
    sf_by_endpoint = {
        k: v - sf_before["calls"].get(k, 0)
        for k, v in sf_after["calls"].items()
        if v - sf_before["calls"].get(k, 0)
    }
    emails = Counter(c["email"] for c in rio_contacts if c.get("email"))
    phones = Counter(c["phone"] for c in rio_contacts if c.get("phone"))
    duplicates = sum(n - 1 for n in emails.values() if n > 1) + sum(n - 1 for n in phones.values() if n > 1)

    print(
        f"salesforce_contacts_sync end to end: {args.contacts:,} contacts, respond.io L = {rate:g} req/s per "
        f"endpoint, create delay {args.create_delay:g} s (client waits {post_create}), max_in_flight {args.max_in_flight}, chunk size "
        f"{args.chunk_size:,}, {len(existing):,} already in respond.io"
    )
    print(f"  command                    {' '.join(['python', *run['command'][1:]])}")
    print(f"  exit code                  {run['returncode']}")
    print(f"  wall time                  {wall:8.1f} s   ({read / wall:,.1f} contacts read/s)")
    print("  phases (task instances in the Airflow metadata DB)")
    first = min((p["start"] for p in phases.values()), default=run["ended_at"])
    last = max((p["end"] for p in phases.values()), default=run["ended_at"])
    rows = [("process start + DAG parse + run set-up", (first - run["started_at"]).total_seconds(), "")]
    previous_end = first
    for name in PHASES:
        phase = phases.get(name)
        if not phase:
            rows.append((name, 0.0, "did not run"))
            continue
        gap = (phase["start"] - previous_end).total_seconds()
        if gap > 0.05:  # noqa: PLR2004 - hand-over between tasks worth showing
            rows.append((f"  between tasks (before {name})", gap, ""))
        span = (phase["end"] - phase["start"]).total_seconds()
        states = ", ".join(f"{s} {n}" for s, n in phase["states"].items())
        extra = (
            f"{phase['count']} task(s): {states}; busy {phase['busy']:.1f} s"
            if phase["count"] > 1
            else states
        )
        rows.append((name, span, extra))
        previous_end = phase["end"]
    rows.append(("process exit", (run["ended_at"] - last).total_seconds(), ""))
    for name, seconds, extra in rows:
        print(f"    {name:<38} {seconds:8.1f} s  {seconds / wall:6.1%}  {extra}")
    print(f"  busiest respond.io endpoint {busiest}: {busiest_calls:,} calls answered 2xx/404")
    print(
        f"  busiest calls/s / L        {busiest_calls / sync_seconds / rate:8.3f}   over the sync_chunk phase "
        f"({sync_seconds:.1f} s)   [target >= 0.95]"
    )
    print(
        f"                             {busiest_calls / busy_seconds / rate:8.3f}   over the sync_chunk tasks' "
        f"own time ({busy_seconds:.1f} s)"
    )
    print(f"                             {busiest_calls / wall / rate:8.3f}   over the whole run")
    print(
        f"  time outside respond.io    {outside:8.1f} s = {outside / wall:.1%} of the run   "
        f"(wall {wall:.1f} s - {busiest_calls:,} calls / L = {in_calls:.1f} s)   [target <= 10 %]"
    )
    dag_run = (last - first).total_seconds()
    print(
        f"                             {dag_run - in_calls:8.1f} s = {(dag_run - in_calls) / dag_run:.1%} of the DAG run "
        f"itself (first task start to last task end, {dag_run:.1f} s: without the `dags test` CLI's own start/exit)"
    )
    print(
        f"  respond.io calls           {total_rio:,}: {total_rio / read:.2f} per contact read, "
        f"{total_rio / max(written, 1):.2f} per contact written ({written:,}); 429s: {total_429:,}"
    )
    for key in sorted(rio):
        statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(rio[key].items()))
        print(f"    {key:48s} {statuses}")
    print(
        f"  Salesforce API calls       {sf_calls:,} = {sf_calls / read * 1000:.2f} per 1,000 contacts   "
        f"{sf_by_endpoint}"
    )
    print(
        f"  peak RSS                   {run['peak_rss_mb']:8.0f} MB (largest process: airflow dags test)   "
        f"process tree sampled: {run['tree_rss_mb']:.0f} MB; CPU {run['cpu_s']:.1f} s = "
        f"{run['cpu_s'] / wall:.0%} of a core"
    )
    total_outcomes = sum(outcomes.values())
    print(
        f"  run summary (state DB)     status {summary.get('status')}, {read:,} read, outcomes add up: "
        f"{summary.get('adds_up')} ({total_outcomes:,}), retry_pending {outcomes.get('retry_pending', 0)}"
    )
    for name, count in outcomes.items():
        print(f"    {name:<22} {count:>7,}")
    print(f"  respond.io contacts after  {len(rio_contacts):,} (duplicate e-mails/phones: {duplicates})")


if __name__ == "__main__":
    sys.exit(main())

"""The ``contact-sync`` command.

contact-sync state migrate [--conn-id contact_sync_state]   bring the state DB to the newest schema
contact-sync state status  [--conn-id contact_sync_state]   show where the state DB is and its schema
contact-sync check-connections                               test the Salesforce, respond.io and state DB
contact-sync leases [--run-key DAG_ID/RUN_ID]                who holds which contacts of a sync run (workers)
"""

from __future__ import annotations

import argparse
import logging
import sys

from contact_sync_ops.airflow_context import prepare
from contact_sync_ops.audit import add_arguments as add_audit_arguments


def _state(args: argparse.Namespace) -> int:
    prepare()
    from hooks.state_db import StateDbHook

    hook = StateDbHook(state_db_conn_id=args.conn_id)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one summary line below is enough
    logging.getLogger("contact_sync.state.migrate").setLevel(logging.WARNING)
    if args.action == "migrate":
        revision = hook.migrate()
        print(f"state DB ({hook.engine.dialect.name}) migrated to revision {revision}")
        return 0
    ok, message = hook.test_connection()
    print(message)
    return 0 if ok else 1


def _check_connections(args: argparse.Namespace) -> int:
    prepare()
    from contact_sync_ops.connections import check_all

    results = check_all(args.salesforce_conn_id, args.respond_io_conn_id, args.state_db_conn_id)
    for name, (ok, message) in results.items():
        print(f"{'OK  ' if ok else 'FAIL'} {name}: {message}")
    return 0 if all(ok for ok, _ in results.values()) else 1


def _leases(args: argparse.Namespace) -> int:
    prepare()
    from hooks.state_db import StateDbHook
    from sqlalchemy import select

    from contact_sync.state import sync_store
    from contact_sync.state.schema import sync_runs

    engine = StateDbHook(state_db_conn_id=args.conn_id).engine
    run_key = args.run_key
    if not run_key:
        with engine.connect() as connection:
            latest = connection.execute(
                select(sync_runs.c.dag_id, sync_runs.c.run_id).order_by(sync_runs.c.id.desc()).limit(1)
            ).first()
        if latest is None:
            print("no sync run recorded yet")
            return 0
        run_key = f"{latest.dag_id}/{latest.run_id}"
    held = sync_store.lease_summary(engine, run_key)
    print(f"{run_key}: {sum(h['rows'] for h in held)} contact(s) leased" + (":" if held else ""))
    for h in held:
        state = "EXPIRED (a dead worker's: the chunk's retry takes them over)" if h["expired"] else "held"
        until = h["until"].isoformat(timespec="seconds") if h["until"] else "-"
        print(f"  chunk {h['chunk']:>4}  {h['rows']:>6} rows  until {until}  {state}  {h['owner']}")
    return 0


def _audit(args: argparse.Namespace) -> int:
    prepare()
    from contact_sync_ops.audit import run

    return run(args, sys.stdout)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contact-sync", description="contact-sync operator commands")
    sub = parser.add_subparsers(dest="command", required=True)
    state = sub.add_parser("state", help="the sync's own state database")
    state.add_argument("action", choices=["migrate", "status"])
    state.add_argument("--conn-id", default="contact_sync_state", help="Airflow connection of the state DB")
    state.set_defaults(func=_state)
    check = sub.add_parser(
        "check-connections", help="test the Salesforce, respond.io and state DB connections"
    )
    check.add_argument("--salesforce-conn-id", default="salesforce_default")
    check.add_argument("--respond-io-conn-id", default="respond_io_default")
    check.add_argument("--state-db-conn-id", default="contact_sync_state")
    check.set_defaults(func=_check_connections)
    leases = sub.add_parser("leases", help="who holds which contacts of a sync run (several workers)")
    leases.add_argument("--run-key", help="DAG_ID/RUN_ID (default: the latest sync run)")
    leases.add_argument("--conn-id", default="contact_sync_state", help="Airflow connection of the state DB")
    leases.set_defaults(func=_leases)
    audit = sub.add_parser(
        "audit", help="failures by reason code for a date range, with examples; CSV export"
    )
    add_audit_arguments(audit)
    audit.set_defaults(func=_audit)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

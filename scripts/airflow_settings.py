"""Apply an Astro-CLI ``airflow_settings.yaml`` (connections, pools, variables) to a plain Airflow install.

    python scripts/airflow_settings.py apply [--file airflow_settings.yaml]

Astro users get the same file applied by ``astro dev start``; this loader makes it serve plain-pip users too.
Existing entries with the same id are replaced. Relative paths (a sqlite connection's host, extras whose key
ends in ``_file``) are made absolute against the settings file's folder. Secrets are never printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _resolve(value: str | None, base: Path) -> str | None:
    if not value or "://" in value or value == ":memory:":
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def load_settings(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Read the file and return its connections/pools/variables with paths resolved."""
    document = yaml.safe_load(path.read_text()) or {}
    section = document.get("airflow") or {}
    base = path.resolve().parent
    connections = []
    for raw in section.get("connections") or []:
        if not raw.get("conn_id"):
            continue
        extra = dict(raw.get("conn_extra") or {})
        for key, value in list(extra.items()):
            if key.endswith("_file") and isinstance(value, str):
                extra[key] = _resolve(value, base)
        host = raw.get("conn_host")
        if raw.get("conn_type") == "sqlite":
            host = _resolve(host, base)
        connections.append({**raw, "conn_host": host, "conn_extra": extra})
    pools = [p for p in section.get("pools") or [] if p.get("pool_name")]
    variables = [v for v in section.get("variables") or [] if v.get("variable_name")]
    return {"connections": connections, "pools": pools, "variables": variables}


def apply(path: Path) -> str:
    """Write the settings into the Airflow metadata DB of the current AIRFLOW_HOME; returns a summary line."""
    from airflow.models import Connection, Pool, Variable
    from airflow.utils.session import create_session

    settings = load_settings(path)
    with create_session() as session:
        for raw in settings["connections"]:
            session.query(Connection).filter(Connection.conn_id == raw["conn_id"]).delete()
            session.add(
                Connection(
                    conn_id=raw["conn_id"],
                    conn_type=raw.get("conn_type") or "generic",
                    host=raw.get("conn_host"),
                    schema=raw.get("conn_schema"),
                    login=raw.get("conn_login"),
                    password=raw.get("conn_password"),
                    port=raw.get("conn_port"),
                    extra=json.dumps(raw["conn_extra"]) if raw["conn_extra"] else None,
                )
            )
        for raw in settings["pools"]:
            Pool.create_or_update_pool(
                name=raw["pool_name"],
                slots=int(raw.get("pool_slot") or 1),
                description=raw.get("pool_description") or "",
                include_deferred=False,
                session=session,
            )
    for raw in settings["variables"]:
        Variable.set(raw["variable_name"], raw.get("variable_value"))
    return (
        f"applied {path.name}: {len(settings['connections'])} connections "
        f"({', '.join(c['conn_id'] for c in settings['connections'])}), "
        f"{len(settings['pools'])} pools, {len(settings['variables'])} variables"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["apply", "show"])
    parser.add_argument("--file", type=Path, default=PROJECT_DIR / "airflow_settings.yaml")
    args = parser.parse_args(argv)
    if not args.file.exists():
        print(f"settings file not found: {args.file}", file=sys.stderr)
        return 2
    if args.action == "show":
        settings = load_settings(args.file)
        for conn in settings["connections"]:
            print(f"connection {conn['conn_id']} ({conn['conn_type']}) host={conn.get('conn_host') or ''}")
        return 0
    print(apply(args.file))
    return 0


if __name__ == "__main__":
    sys.exit(main())

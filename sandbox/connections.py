"""Airflow connections to the local stand-ins, as ``AIRFLOW_CONN_*`` JSON values (tests, demo, benchmarks).

An environment connection wins over the metastore, so a process started with these values talks to the stand-ins
(and to the state DB / Redis given) without touching Airflow's database.
"""

from __future__ import annotations

import json
from typing import Any


def salesforce_connection(url: str, client_id: str, client_secret: str, ca_file: str, **extra: Any) -> str:
    """A ``salesforce`` connection for the stand-in (client-credentials flow, its CA)."""
    fields = {
        "instance_url": url,
        "consumer_key": client_id,
        "consumer_secret": client_secret,
        "ca_file": ca_file,
    }
    return json.dumps({"conn_type": "salesforce", "extra": {**fields, **extra}})


def respond_io_connection(api_url: str, token: str, **extra: Any) -> str:
    """An ``http`` connection for the respond.io stand-in: ``api_url`` ends in ``/v2``; ``extra`` as the hook reads."""
    return json.dumps({"conn_type": "http", "host": api_url, "password": token, "extra": extra})


def state_connection(*, path: str | None = None, url: str | None = None) -> str:
    """The state DB: a SQLite file, or any SQLAlchemy URL (PostgreSQL)."""
    if path:
        return json.dumps({"conn_type": "sqlite", "host": path})
    return json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": url}})


def redis_connection(host: str = "127.0.0.1", port: int = 6379, db: int = 0) -> str:
    """A ``redis`` connection (the shared respond.io rate limiter)."""
    return json.dumps({"conn_type": "redis", "host": host, "port": port, "extra": {"db": db}})

"""The sync's own state database: engine, schema and migrations (SQLite by default, PostgreSQL in production).

No Airflow import here: the Airflow side (connection -> URL) lives in ``plugins/hooks/state_db.py``.
"""

from __future__ import annotations

from contact_sync.state.engine import make_engine
from contact_sync.state.migrate import current_revision, head_revision, migrate

__all__ = ["current_revision", "head_revision", "make_engine", "migrate"]

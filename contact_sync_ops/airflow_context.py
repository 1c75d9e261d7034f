"""Make Airflow connections and the project's plugins usable from a command-line tool."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def prepare() -> None:
    """Call before importing airflow or hooks in a CLI process.

    Outside a task, Airflow 3 only reads connections from environment variables and external secrets
    backends; a CLI that an operator runs next to the scheduler is a server-side context, so it may read
    the metadata DB like the ``airflow`` CLI does. Plugins become importable as top-level packages
    (``from hooks.state_db import StateDbHook``), the same way Airflow itself puts them on ``sys.path``.
    """
    os.environ.setdefault("_AIRFLOW_PROCESS_CONTEXT", "server")
    plugins = os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(PROJECT_DIR / "plugins"))
    import sys

    if plugins not in sys.path:
        sys.path.insert(0, plugins)

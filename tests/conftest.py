"""Session-wide test setup.

AIRFLOW_HOME must point at a throw-away folder *before* anything imports airflow, otherwise Airflow creates
``~/airflow`` and its SQLite metadata DB there. Fixtures for the stand-ins and the state DB live in
``tests/fixtures/`` and are registered below.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="contact-sync-test-airflow-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
atexit.register(shutil.rmtree, _AIRFLOW_HOME, ignore_errors=True)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME}/airflow.db"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(PROJECT_DIR / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(PROJECT_DIR / "plugins")
# The stand-ins' CA and other generated files of the test run.
os.environ.setdefault("CONTACT_SYNC_VAR", str(PROJECT_DIR / "var"))

pytest_plugins = [
    "tests.fixtures.salesforce_standin",
    "tests.fixtures.respond_io_standin",
    "tests.fixtures.state_db",
    "tests.fixtures.airflow_home",
]

"""The Airflow plugin: registered through ``fastapi_apps`` and serving the app under its prefix, configured
from the Airflow connection ``contact_sync_inbox``."""

from __future__ import annotations

import json
import threading
import time
from unittest import mock

import httpx
import pytest
import uvicorn

from sandbox.process import free_port
from tests.inbox.conftest import JANE_ID, seed_contacts

pytestmark = pytest.mark.integration


def test_plugin_mounts_the_app_configured_from_the_airflow_connection(tmp_path, sqlite_engine, password_hash):
    import inbox_plugin
    from airflow.sdk import Connection
    from fastapi import FastAPI

    seed_contacts(sqlite_engine)
    (app_entry,) = inbox_plugin.ContactSyncInboxPlugin.fastapi_apps
    assert app_entry["url_prefix"] == "/contact-sync-inbox"
    extras = {"users": {"analyst": password_hash}, "session_secret": "s" * 32, "read_through": False,
              "salesforce_instance_url": "https://acme.my.salesforce.com", "state_db_url": str(sqlite_engine.url)}  # fmt: skip
    conn = Connection(
        conn_id="contact_sync_inbox", conn_type="generic", password="plugin-token", extra=json.dumps(extras)
    )
    root = FastAPI()
    root.mount(app_entry["url_prefix"], inbox_plugin.LazyInboxApp())  # what Airflow's init_plugins does
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(root, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    with mock.patch.dict("os.environ", AIRFLOW_CONN_CONTACT_SYNC_INBOX=conn.as_json()):
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        try:
            base = f"http://127.0.0.1:{port}/contact-sync-inbox"
            response = httpx.get(f"{base}/api/v1/lookup", params={"email": "jane.doe@example.com"},
                                 headers={"Authorization": "Bearer plugin-token"})  # fmt: skip
            assert response.status_code == 200, response.text
            assert response.json()["contacts"][0]["sf_id"] == JANE_ID
            assert (
                httpx.get(f"{base}/api/v1/lookup", params={"email": "jane.doe@example.com"}).status_code
                == 401
            )
            page = httpx.get(f"{base}/audit")
            assert page.status_code == 303
            assert page.headers["location"].startswith(f"{base}/login?next=")
            login = httpx.post(
                f"{base}/login", data={"username": "analyst", "password": "correct horse battery staple"}
            )
            assert login.status_code == 303 and login.headers["location"] == "/contact-sync-inbox/sidebar"
            assert "path=/contact-sync-inbox/" in login.headers["set-cookie"].lower()
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def test_airflow_loads_the_plugin():
    from airflow import plugins_manager

    apps, _ = plugins_manager.get_fastapi_plugins()
    assert any(entry.get("url_prefix") == "/contact-sync-inbox" for entry in apps)

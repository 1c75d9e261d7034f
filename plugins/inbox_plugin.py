"""Airflow plugin: mounts the contact-sync inbox service in the api-server under ``/contact-sync-inbox``.

Airflow does not protect plugin apps; the app checks its own bearer token (API) and session (pages). Its
configuration comes from the Airflow connection ``contact_sync_inbox`` (password = API token, extras =
``users``, ``session_secret`` and other settings; see docs/inbox-service.md), read on the first request, and
from ``CONTACT_SYNC_INBOX_*`` variables. Importing this file does no I/O and imports no web framework: the app
is built on its first request.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from airflow.plugins_manager import AirflowPlugin

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

URL_PREFIX = "/contact-sync-inbox"
CONNECTION_ENV = "CONTACT_SYNC_INBOX_AIRFLOW_CONN_ID"


class LazyInboxApp:
    """An ASGI app that builds the inbox FastAPI app on its first call."""

    def __init__(self) -> None:
        self._app: Any = None

    def _build(self) -> Any:
        from contact_sync_inbox.app import create_app
        from contact_sync_inbox.config import load_config

        conn_id = os.environ.get(CONNECTION_ENV, "contact_sync_inbox")
        return create_app(lambda: load_config(airflow_conn_id=conn_id))

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        if self._app is None:
            self._app = self._build()
        await self._app(scope, receive, send)


class ContactSyncInboxPlugin(AirflowPlugin):
    name = "contact_sync_inbox"
    fastapi_apps = [{"app": LazyInboxApp(), "url_prefix": URL_PREFIX, "name": "contact-sync inbox"}]

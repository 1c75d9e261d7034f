"""ASGI entry point for uvicorn/gunicorn: ``uvicorn contact_sync_inbox.asgi:app``.

The configuration is read from the environment and the secrets file on the first request.
"""

from __future__ import annotations

from contact_sync_inbox.app import create_app

app = create_app()

"""contact-sync inbox service: Salesforce contact lookup for the respond.io inbox, sidebar and audit pages.

Run standalone with ``python -m contact_sync_inbox`` (uvicorn) or mount it in the Airflow api-server through
``plugins/inbox_plugin.py``. See ``docs/inbox-service.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contact_sync_inbox.app import create_app
    from contact_sync_inbox.config import InboxConfig, load_config

__all__ = ["InboxConfig", "create_app", "load_config"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from contact_sync_inbox.app import create_app

        return create_app
    if name in {"InboxConfig", "load_config"}:
        from contact_sync_inbox import config

        return getattr(config, name)
    raise AttributeError(f"module 'contact_sync_inbox' has no attribute {name!r}")

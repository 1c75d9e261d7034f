"""What the app builds once from its configuration: engine, sessions, lookup service, read-through."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

    from contact_sync_inbox.auth import Sessions
    from contact_sync_inbox.config import InboxConfig
    from contact_sync_inbox.lookup import LookupService

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: InboxConfig
    engine: Engine
    sessions: Sessions
    lookups: LookupService


def _engine(config: InboxConfig) -> Engine:
    if config.state_db_url:
        from contact_sync.state import make_engine

        return make_engine(config.state_db_url)
    from contact_sync_inbox.refresh import ensure_plugins_importable

    ensure_plugins_importable()
    from hooks.state_db import StateDbHook

    return StateDbHook(state_db_conn_id=config.state_db_conn_id).engine


def build_runtime(config: InboxConfig, engine: Engine | None = None) -> Runtime:
    """Build the runtime (opens no connection yet; the engine connects on first use)."""
    from contact_sync.lookup import KEY_FIELDS
    from contact_sync_inbox.auth import Sessions
    from contact_sync_inbox.lookup import LookupService
    from contact_sync_inbox.refresh import SalesforceRefresher

    engine = engine or _engine(config)
    if config.read_through and config.state_db_url:
        log.warning(
            "inbox: state DB given as a URL; read-through counts its Salesforce calls in the state DB of "
            "connection '%s'",
            config.state_db_conn_id,
        )
    salesforce = SalesforceRefresher(
        engine=engine,
        salesforce_conn_id=config.salesforce_conn_id,
        state_db_conn_id=config.state_db_conn_id,
        fields=tuple(dict.fromkeys((*KEY_FIELDS, "FirstName", "LastName", *config.display_fields))),
        display_fields=config.display_fields,
        default_region=config.default_region,
        timeout=config.salesforce_timeout_seconds,
        retry_after=config.salesforce_retry_after_seconds,
    )

    @cache
    def instance_url() -> str | None:
        if config.salesforce_instance_url:
            return config.salesforce_instance_url.rstrip("/")
        return salesforce.instance_url()

    lookups = LookupService(
        engine,
        display_fields=config.display_fields,
        default_region=config.default_region,
        ttl_seconds=config.ttl_seconds,
        refresher=salesforce if config.read_through else None,
        instance_url=instance_url,
        read_through_max_contacts=config.read_through_max_contacts,
    )
    return Runtime(config=config, engine=engine, sessions=Sessions(config), lookups=lookups)


class LazyRuntime:
    """Builds the runtime on first use (inside Airflow, connections are read when the first request comes)."""

    def __init__(self, config: InboxConfig | Callable[[], InboxConfig], engine: Engine | None = None) -> None:
        self._source = config
        self._engine = engine
        self._runtime: Runtime | None = None
        self._lock = threading.Lock()

    def get(self) -> Runtime:
        runtime = self._runtime
        if runtime is None:
            with self._lock:
                if self._runtime is None:
                    source = self._source
                    config = source() if callable(source) else source
                    self._runtime = build_runtime(config, self._engine)
                runtime = self._runtime
        return runtime

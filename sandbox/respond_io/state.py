"""Everything the running stand-in holds: live config, store, limiter, faults, webhooks, call counters."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sandbox.respond_io.errors import ApiError, not_found
from sandbox.respond_io.faults import Faults
from sandbox.respond_io.ratelimit import RateLimiter
from sandbox.respond_io.store import Store
from sandbox.respond_io.webhooks import WebhookDispatcher

if TYPE_CHECKING:
    from sandbox.respond_io.config import StandinConfig
    from sandbox.respond_io.identifiers import Identifier
    from sandbox.respond_io.store import Contact

__all__ = ["StandinState"]


class StandinState:
    """Run-time state; ``initial`` keeps the start-up configuration for ``reset(config=True)``."""

    def __init__(self, config: StandinConfig) -> None:
        self.initial = config.copy()
        self.config = config.copy()
        self.tokens = frozenset(config.tokens)
        self.store = Store(email_case_sensitive=self.config.email_case_sensitive)
        self.limiter = RateLimiter(self.config.rate_limit, self.config.endpoint_limits)
        self.faults = Faults(self.config.faults)
        self.webhooks = WebhookDispatcher(self.config.webhook)
        self.counters: defaultdict[str, defaultdict[int, int]] = defaultdict(lambda: defaultdict(int))

    # -- config -------------------------------------------------------------------------------
    @property
    def create_delay(self) -> float:
        return self.config.create_delay

    def reset(self, *, config: bool = False) -> None:
        """Wipe contacts, tags, fields, counters, buckets, deliveries; ``config`` restores start-up config."""
        self.store.reset()
        self.counters.clear()
        self.limiter.reset()
        self.webhooks.reset()
        self.faults.bursts.clear()
        if config:
            fresh = self.initial.copy()
            self.config = fresh
            self.store.email_case_sensitive = fresh.email_case_sensitive
            self.limiter.replace(fresh.rate_limit, fresh.endpoint_limits)
            self.faults.config = fresh.faults
            self.webhooks.config = fresh.webhook

    def count(self, key: str, status: int) -> None:
        self.counters[key][status] += 1

    def counters_json(self) -> dict[str, Any]:
        by_endpoint = {k: {str(s): n for s, n in sorted(v.items())} for k, v in sorted(self.counters.items())}
        by_status: defaultdict[str, int] = defaultdict(int)
        for statuses in by_endpoint.values():
            for status, n in statuses.items():
                by_status[status] += n
        return {"by_endpoint": by_endpoint, "by_status": dict(by_status), "total": sum(by_status.values())}

    # -- contacts -----------------------------------------------------------------------------
    def ready_contact(self, ident: Identifier) -> Contact:
        """The contact for ``ident`` once processed; 404 (or sometimes 449) while in its create window."""
        contact = self.store.find(ident)
        if contact is None:
            raise not_found()
        if contact.pending(time.monotonic()):
            if self.faults.pending_449():
                raise ApiError(449, "Retry With")
            raise not_found()
        return contact

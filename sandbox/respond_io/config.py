"""The stand-in's configuration (start-up values; most are also changeable at run time via /__admin)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from sandbox.respond_io.faults import FaultConfig
from sandbox.respond_io.webhooks import WebhookConfig

__all__ = ["StandinConfig"]


@dataclass
class StandinConfig:
    """Start-up configuration of the respond.io stand-in.

    :param tokens: accepted bearer tokens (all share one organisation's rate limits).
    :param rate_limit: default requests/s per endpoint.
    :param endpoint_limits: per-endpoint overrides, keyed by :func:`.endpoints.endpoint_key`.
    :param create_delay: seconds a newly created contact answers 404 (asynchronous processing).
    :param email_case_sensitive: treat ``Jane@x.com`` and ``jane@x.com`` as different contacts.
    :param strict_tags: adding a tag that is not a workspace tag → 400 (default: auto-create it).
    """

    tokens: tuple[str, ...] = ()
    rate_limit: float = 5.0
    endpoint_limits: dict[str, float] = field(default_factory=dict)
    create_delay: float = 0.5
    email_case_sensitive: bool = False
    strict_tags: bool = False
    faults: FaultConfig = field(default_factory=FaultConfig)
    webhook: WebhookConfig = field(default_factory=WebhookConfig)

    def copy(self) -> StandinConfig:
        return copy.deepcopy(self)

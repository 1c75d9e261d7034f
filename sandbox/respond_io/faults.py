"""Fault injection: added latency, random error rate, bursts of forced statuses, 449s in the create window."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["Burst", "FaultConfig", "Faults"]

Phase = Literal["before", "after"]


@dataclass
class FaultConfig:
    """Standing faults.

    :param latency_ms: delay added to every API response.
    :param error_rate: share (0–1) of API calls answered with one of ``error_statuses`` (handler not run).
    :param error_statuses: statuses picked at random for ``error_rate``.
    :param pending_449_rate: share (0–1) of calls to a contact still in its create window answered
        449 "Retry With" instead of 404 "Contact not found".
    """

    latency_ms: float = 0.0
    error_rate: float = 0.0
    error_statuses: list[int] = field(default_factory=lambda: [500, 502, 503])
    pending_449_rate: float = 0.0


@dataclass
class Burst:
    """The next ``count`` matching responses get ``status``.

    :param endpoint: an endpoint key (``POST /contact/{identifier}/tag``) or ``None`` for every endpoint.
    :param phase: ``before`` answers without running the handler; ``after`` runs it (the write happens)
        and then replaces the response — a "lost response".
    """

    status: int
    count: int
    endpoint: str | None = None
    phase: Phase = "before"


class Faults:
    """Holds the fault configuration and pending bursts; decides per request."""

    def __init__(self, config: FaultConfig | None = None, seed: int | None = None) -> None:
        self.config = config or FaultConfig()
        self.bursts: list[Burst] = []
        self._random = random.Random(seed)

    def update(self, **changes: Any) -> None:
        for key, value in changes.items():
            if value is None or not hasattr(self.config, key):
                continue
            if key == "error_statuses":
                value = [int(v) for v in value]
            elif key in ("latency_ms", "error_rate", "pending_449_rate"):
                value = float(value)
            setattr(self.config, key, value)

    def add_burst(self, burst: Burst) -> None:
        self.bursts.append(burst)

    def clear(self) -> None:
        self.config = FaultConfig()
        self.bursts.clear()

    def _take_burst(self, key: str, phase: Phase) -> int | None:
        for burst in self.bursts:
            if burst.phase == phase and (burst.endpoint is None or burst.endpoint == key):
                burst.count -= 1
                if burst.count <= 0:
                    self.bursts.remove(burst)
                return burst.status
        return None

    def before(self, key: str) -> int | None:
        """Status to answer with instead of running the handler, or ``None``."""
        status = self._take_burst(key, "before")
        if status is not None:
            return status
        cfg = self.config
        if cfg.error_rate > 0 and cfg.error_statuses and self._random.random() < cfg.error_rate:
            return self._random.choice(cfg.error_statuses)
        return None

    def after(self, key: str) -> int | None:
        """Status to replace the handler's response with, or ``None``."""
        return self._take_burst(key, "after") if self.bursts else None

    def pending_449(self) -> bool:
        rate = self.config.pending_449_rate
        return rate > 0 and self._random.random() < rate

    def snapshot(self) -> dict[str, Any]:
        return {**asdict(self.config), "bursts": [asdict(b) for b in self.bursts]}

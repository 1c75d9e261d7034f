"""One Salesforce API budget for the whole product, counted in the state DB over a rolling 24 hours.

Every call contact-sync makes (sync, lookup refresh, read-through lookups, write-back) is recorded under its
consumer. The guard refuses to start, or stops between pages, before the org's daily allocation (as last seen in
``Sforce-Limit-Info``) reaches the ceiling (default 80 %), and before a consumer has used its share of it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from contact_sync.state.schema import salesforce_api_calls, salesforce_api_limit
from contact_sync.state.upsert import dialect_insert, upsert

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from sqlalchemy.engine import Engine

DEFAULT_SHARES: Mapping[str, float] = {"sync": 0.4, "refresh": 0.3, "lookup": 0.1, "writeback": 0.2}
WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class BudgetPolicy:
    """:param ceiling: share of the org's daily allocation contact-sync never crosses.
    :param shares: each consumer's share of that ceiling (a consumer not listed gets ``default_share``)."""

    ceiling: float = 0.8
    shares: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SHARES))
    default_share: float = 0.1

    def share(self, consumer: str) -> float:
        return float(self.shares.get(consumer, self.default_share))


@dataclass(frozen=True)
class BudgetUsage:
    consumer: str
    by_consumer: Mapping[str, int]
    org_used: int | None
    allocation: int | None
    policy: BudgetPolicy

    @property
    def consumer_limit(self) -> int | None:
        if self.allocation is None:
            return None
        return int(self.allocation * self.policy.ceiling * self.policy.share(self.consumer))

    @property
    def org_limit(self) -> int | None:
        return None if self.allocation is None else int(self.allocation * self.policy.ceiling)

    def refusal(self) -> str | None:
        """Why the consumer must stop now, or None."""
        if self.org_used is not None and self.org_limit is not None and self.org_used >= self.org_limit:
            return (
                f"the org has used {self.org_used:,} of {self.allocation:,} daily API calls, at or over the "
                f"{self.policy.ceiling:.0%} ceiling contact-sync keeps"
            )
        used = self.by_consumer.get(self.consumer, 0)
        limit = self.consumer_limit
        if limit is not None and used >= limit:
            return (
                f"'{self.consumer}' has used {used:,} calls in 24 h, its share "
                f"({self.policy.share(self.consumer):.0%} of {self.policy.ceiling:.0%} of {self.allocation:,})"
            )
        return None

    def describe(self) -> str:
        mine = ", ".join(f"{k} {v:,}" for k, v in sorted(self.by_consumer.items())) or "none"
        org = f"{self.org_used:,}/{self.allocation:,}" if self.allocation else "not seen yet"
        return f"org usage {org}; contact-sync calls in the last 24 h by consumer: {mine}"

    @property
    def remaining_for_consumer(self) -> int | None:
        limit = self.consumer_limit
        return None if limit is None else max(0, limit - self.by_consumer.get(self.consumer, 0))


class SalesforceBudgetExceeded(RuntimeError):
    """contact-sync stopped before spending more of the Salesforce API allocation than it may."""

    def __init__(self, usage: BudgetUsage, reason: str) -> None:
        self.usage = usage
        super().__init__(
            f"Salesforce API budget: stopping '{usage.consumer}' because {reason}. {usage.describe()}. "
            "It resumes on its own as the 24 h window rolls on; raise the ceiling or shares in the "
            "connection extras (budget_ceiling, budget_shares) if this allocation is too tight."
        )


class ApiBudget:
    """Counts calls of one consumer and guards the shared budget. Thread-safe; in memory when ``engine`` is None."""

    def __init__(
        self,
        engine: Engine | None,
        consumer: str,
        policy: BudgetPolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.consumer = consumer
        self.policy = policy or BudgetPolicy()
        self.clock = clock
        self._lock = threading.Lock()
        self._memory_calls: list[tuple[datetime, int]] = []
        self._memory_limit: tuple[int, int] | None = None
        self.calls_this_run = 0

    def record(self, calls: int = 1, *, used: int | None = None, allocation: int | None = None) -> None:
        """Record ``calls`` made now, and the org usage from ``Sforce-Limit-Info`` when the response had it."""
        now = self.clock()
        with self._lock:
            self.calls_this_run += calls
            if self.engine is None:
                self._memory_calls.append((now, calls))
                if used is not None and allocation:
                    self._memory_limit = (used, allocation)
                return
            minute = now.replace(second=0, microsecond=0)
            with self.engine.begin() as connection:
                statement = dialect_insert(connection, salesforce_api_calls)
                statement = statement.on_conflict_do_update(
                    index_elements=["consumer", "minute"],
                    set_={"calls": salesforce_api_calls.c.calls + statement.excluded.calls},
                )
                connection.execute(statement, [{"consumer": self.consumer, "minute": minute, "calls": calls}])
                if used is not None and allocation:
                    upsert(
                        connection,
                        salesforce_api_limit,
                        [{"id": 1, "used": used, "allocation": allocation, "seen_at": now}],
                        keys=["id"],
                    )

    def usage(self) -> BudgetUsage:
        since = self.clock() - WINDOW
        if self.engine is None:
            with self._lock:
                total = sum(n for at, n in self._memory_calls if at >= since)
                limit = self._memory_limit
            by_consumer = {self.consumer: total} if total else {}
        else:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    select(salesforce_api_calls.c.consumer, func.sum(salesforce_api_calls.c.calls))
                    .where(salesforce_api_calls.c.minute >= since.replace(second=0, microsecond=0))
                    .group_by(salesforce_api_calls.c.consumer)
                ).all()
                row = connection.execute(
                    select(salesforce_api_limit.c.used, salesforce_api_limit.c.allocation)
                ).first()
            by_consumer = {consumer: int(total) for consumer, total in rows}
            limit = (int(row.used), int(row.allocation)) if row else None
        return BudgetUsage(
            consumer=self.consumer,
            by_consumer=by_consumer,
            org_used=limit[0] if limit else None,
            allocation=limit[1] if limit else None,
            policy=self.policy,
        )

    def check(self) -> BudgetUsage:
        """Raise :class:`SalesforceBudgetExceeded` when this consumer must not make another call."""
        usage = self.usage()
        reason = usage.refusal()
        if reason:
            raise SalesforceBudgetExceeded(usage, reason)
        return usage

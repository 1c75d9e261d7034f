"""The analysts' audit page's data: failures by reason per day, the open failures, the run history.

Reads the state DB only, through the queries of :mod:`contact_sync.state.reports` (the ``contact-sync audit``
command's), so the page and the command agree.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from contact_sync.state.reports import FAILURE_COLUMNS, iter_failures, runs_in_range
from contact_sync_inbox.chart import OTHER, color_for, stacked_bars
from contact_sync_inbox.lookup import BadInput

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from sqlalchemy.engine import Engine

    from contact_sync.state.reports import FailureRow, RunRow

DEFAULT_DAYS = 14
MAX_DAYS = 366
MAX_REASONS_IN_CHART = 8
MAX_TABLE_ROWS = 500
_REASON = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FailureStatus = Literal["open", "all"]


@dataclass(frozen=True)
class AuditFilters:
    start: date
    end: date  # inclusive
    reason: str | None
    status: FailureStatus

    @property
    def start_at(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        """Exclusive end: midnight after the last day."""
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC) + timedelta(days=1)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def query(self) -> dict[str, str]:
        out = {"start": self.start.isoformat(), "end": self.end.isoformat(), "status": self.status}
        if self.reason:
            out["reason"] = self.reason
        return out


def _day(value: str, name: str) -> date:
    if not _DAY.match(value):
        raise BadInput(f"'{name}' must be a date like 2026-11-01", parameter=name)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"'{name}' is not a valid date", parameter=name) from None


def parse_filters(
    start: str | None, end: str | None, reason: str | None, status: str | None, *, today: date | None = None
) -> AuditFilters:
    """Validate the page's filters (dates ``YYYY-MM-DD``, inclusive; a reason code; ``open`` or ``all``).

    :raises BadInput: a malformed value or a range longer than :data:`MAX_DAYS` days.
    """
    today = today or datetime.now(UTC).date()
    end_day = _day(end, "end") if end else today
    start_day = _day(start, "start") if start else end_day - timedelta(days=DEFAULT_DAYS - 1)
    if start_day > end_day:
        raise BadInput("'start' is after 'end'", parameter="start")
    if (end_day - start_day).days + 1 > MAX_DAYS:
        raise BadInput(f"the range is longer than {MAX_DAYS} days", parameter="start")
    code = (reason or "").strip() or None
    if code is not None and not _REASON.match(code):
        raise BadInput("'reason' must be a reason code such as EMAIL_NO_AT", parameter="reason")
    if status not in (None, "", "open", "all"):
        raise BadInput("'status' must be 'open' or 'all'", parameter="status")
    return AuditFilters(
        start_day, end_day, code.upper() if code else None, "all" if status == "all" else "open"
    )


@dataclass
class AuditView:
    filters: AuditFilters
    chart_svg: str
    legend: list[tuple[str, str, int]]
    failures: list[FailureRow]
    failures_total: int
    reasons_available: list[str]
    runs: list[RunRow]
    run_outcomes: list[str]
    run_totals: dict[str, int] = field(default_factory=dict)


def failures_for_table(engine: Engine, filters: AuditFilters) -> Iterator[FailureRow]:
    """The failures the table and the CSV show: last seen in the range, open ones (or all), by reason."""
    return iter_failures(
        engine, filters.start_at, filters.end_at, open_only=filters.status == "open", reason=filters.reason
    )


def build_view(engine: Engine, filters: AuditFilters) -> AuditView:
    """Everything the audit page shows, from the state DB."""
    # Chart: failures first seen on each day of the range, by reason (any later state; resolved ones too).
    far_end = max(filters.end_at, datetime.now(UTC)) + timedelta(days=1)
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    for row in iter_failures(engine, filters.start_at, far_end, open_only=False):
        if not (filters.start_at <= row.first_seen < filters.end_at):
            continue
        for code in dict.fromkeys(row.reasons) or ("UNKNOWN",):
            if filters.reason and code != filters.reason:
                continue
            per_day[row.first_seen.date()][code] += 1
            totals[code] += 1
    ranked = [code for code, _ in totals.most_common()]
    shown = ranked[:MAX_REASONS_IN_CHART]
    if len(ranked) > MAX_REASONS_IN_CHART:
        for counter in per_day.values():
            counter[OTHER] = sum(n for code, n in counter.items() if code not in shown and code != OTHER)
        totals[OTHER] = sum(totals[c] for c in ranked[MAX_REASONS_IN_CHART:])
        shown.append(OTHER)
    chart = stacked_bars(
        filters.days,
        per_day,
        shown,
        title=f"New failures per day by reason, {filters.start.isoformat()} to {filters.end.isoformat()}",
    )
    legend = [(code, color_for(i), totals[code]) for i, code in enumerate(shown)]
    failures: list[FailureRow] = []
    count = 0
    for row in failures_for_table(engine, filters):
        count += 1
        if len(failures) < MAX_TABLE_ROWS:
            failures.append(row)
    failures.reverse()  # newest first on the page
    runs = runs_in_range(engine, filters.start_at, filters.end_at)
    runs.reverse()
    outcomes: list[str] = []
    run_totals: Counter[str] = Counter()
    for run in runs:
        for outcome, n in run.counts.items():
            if outcome not in outcomes:
                outcomes.append(outcome)
            run_totals[outcome] += n
    return AuditView(
        filters=filters,
        chart_svg=chart,
        legend=legend,
        failures=failures,
        failures_total=count,
        reasons_available=sorted(totals) if not filters.reason else [filters.reason],
        runs=runs,
        run_outcomes=outcomes,
        run_totals=dict(run_totals),
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PHONE_LIKE = re.compile(r"^[+\-]?[\d\s().\-/]*$")


def csv_safe(value: str) -> str:
    """Defuse spreadsheet formulas (``=HYPERLINK(..)`` typed into a Salesforce field); phone numbers stay as is."""
    if value.startswith(_FORMULA_START) and not _PHONE_LIKE.match(value):
        return "'" + value
    return value


def failures_csv(rows: Iterable[FailureRow]) -> Iterator[str]:
    """The failures as CSV text, a chunk per row (columns of ``contact-sync audit --csv``)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(FAILURE_COLUMNS))
    writer.writeheader()
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow({k: csv_safe(v) for k, v in row.as_csv_row().items()})
        yield buffer.getvalue()

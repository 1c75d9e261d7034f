"""``contact-sync audit``: failures by reason code for a date range, with examples, and a CSV export.

The command (wired in ``contact_sync_ops/cli.py``)::

    contact-sync audit --from 2026-11-01 --to 2026-11-08 [--reason PHONE_TOO_SHORT] [--workspace W]
                       [--all] [--examples 3] [--csv out.csv] [--conn-id contact_sync_state]

Dates are UTC; ``--from`` is inclusive, ``--to`` exclusive (``--from 2026-11-01 --to 2026-11-08`` is the seven
days 1–7 November). A failure is in the range when it was last seen in it. ``--all`` includes failures already
resolved. See ``docs/analysts.md``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from contact_sync.state.reports import (
    FAILURE_COLUMNS,
    FailureRow,
    ReasonSummary,
    iter_failures,
    outcome_counts,
    runs_in_range,
    summarize_by_reason,
)

if TYPE_CHECKING:
    import argparse

    from sqlalchemy.engine import Engine

    from contact_sync.state.reports import RunRow


class AuditDateError(ValueError):
    """A ``--from``/``--to`` value that is not a date, or an empty range."""


def parse_day(value: str, *, option: str) -> datetime:
    """``YYYY-MM-DD`` (midnight UTC) or an ISO 8601 timestamp (naive means UTC) as an aware UTC datetime."""
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AuditDateError(
            f"{option} {value!r} is not a date: use YYYY-MM-DD (UTC), e.g. 2026-11-01, "
            "or an ISO timestamp such as 2026-11-01T08:00:00Z"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def date_range(start: str, end: str) -> tuple[datetime, datetime]:
    """Parse ``--from``/``--to``; raises :class:`AuditDateError` on bad dates or an empty range."""
    start_at, end_at = parse_day(start, option="--from"), parse_day(end, option="--to")
    if start_at >= end_at:
        raise AuditDateError(
            f"--from {start} is not before --to {end}: --from is inclusive and --to exclusive, "
            f"so one day is e.g. --from {start_at.date()} --to <the next day>"
        )
    return start_at, end_at


@dataclass(slots=True)
class AuditReport:
    """What ``audit`` found: failing contacts in the range, counted by reason code, and the rows themselves."""

    start: datetime
    end: datetime
    workspace: str | None
    reason: str | None
    open_only: bool
    rows: list[FailureRow]
    by_reason: list[ReasonSummary]
    runs: list[RunRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Failing contacts in the report (each once, whatever its number of codes)."""
        return len(self.rows)

    def write_csv(self, path: str | Path) -> int:
        """Write one line per failing contact (UTF-8, header row, ``reasons`` joined with ``;``).

        :return: the number of data lines written.
        """
        with Path(path).open("w", encoding="utf-8", newline="") as handle:
            return self.write_csv_to(handle)

    def write_csv_to(self, handle: TextIO) -> int:
        writer = csv.DictWriter(handle, fieldnames=list(FAILURE_COLUMNS))
        writer.writeheader()
        for row in self.rows:
            writer.writerow(row.as_csv_row())
        return len(self.rows)

    def format(self) -> str:
        """The human-readable report: scope, runs, a table of reason / count / share, then examples."""
        lines = [
            f"Failures last seen {self.start.isoformat()} .. {self.end.isoformat()} (UTC, end exclusive)"
            f"; workspace: {self.workspace or 'all'}; {'open only' if self.open_only else 'open and resolved'}"
            + (f"; reason: {self.reason.upper()}" if self.reason else ""),
        ]
        if self.runs:
            statuses: dict[str, int] = {}
            read = 0
            for run in self.runs:
                statuses[run.status] = statuses.get(run.status, 0) + 1
                read += sum(run.counts.values())
            status_text = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
            lines.append(
                f"Runs started in the range: {len(self.runs)} ({status_text}); contacts read: {read}"
            )
        outcomes = outcome_counts(self.rows)
        outcome_text = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())) or "none"
        lines.append(f"Failing contacts: {self.total} ({outcome_text})")
        if not self.by_reason:
            lines.append("No failures in this range.")
            return "\n".join(lines) + "\n"
        width = max(len("reason"), *(len(s.reason) for s in self.by_reason))
        lines += [
            "",
            f"{'reason':<{width}}  {'count':>7}  {'share':>6}",
            f"{'-' * width}  {'-' * 7}  {'-' * 6}",
        ]
        for summary in self.by_reason:
            share = summary.share(self.total)
            lines.append(f"{summary.reason:<{width}}  {summary.count:>7}  {share:>6.1%}")
        lines.append("(share = of failing contacts; a contact with several codes counts under each)")
        for summary in self.by_reason:
            lines += ["", f"{summary.reason} — {summary.count} contact(s), examples:"]
            lines += [_format_example(row) for row in summary.examples]
        return "\n".join(lines) + "\n"


def _show(value: str | None) -> str:
    return "∅" if value is None else repr(value)


def _format_example(row: FailureRow) -> str:
    region = f"{row.region_assumed or '∅'} ({row.region_source})" if row.region_source else row.region_assumed
    parts = [
        f"  {row.workspace}/{row.sf_id} [{row.outcome}; {', '.join(row.reasons)}]",
        f"    email {_show(row.raw_email)} -> {_show(row.normalized_email)}",
        f"    phone {_show(row.raw_phone)}, mobile {_show(row.raw_mobile)} -> {_show(row.normalized_phone)}",
        f"    country {_show(row.raw_country)}; region assumed {region or '∅'}",
    ]
    tail = f"    last seen {row.last_seen.isoformat()}"
    if row.owner_sf_id:
        tail += f"; identifier owned by {row.owner_sf_id}"
    if row.resolved_at:
        tail += f"; resolved {row.resolved_at.isoformat()}"
    return "\n".join([*parts, tail])


def audit(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    reason: str | None = None,
    workspace: str | None = None,
    open_only: bool = True,
    examples: int = 3,
) -> AuditReport:
    """Failures last seen in ``[start, end)`` counted by reason code, with up to ``examples`` contacts each.

    :param reason: only contacts carrying this code (case-insensitive); the table then has that code only.
    :param workspace: only this workspace (``None``: all).
    :param open_only: leave out failures already resolved.
    """
    if examples < 0:
        raise ValueError("examples must be >= 0")
    rows = list(iter_failures(engine, start, end, workspace=workspace, open_only=open_only, reason=reason))
    return AuditReport(
        start=start,
        end=end,
        workspace=workspace,
        reason=reason,
        open_only=open_only,
        rows=rows,
        by_reason=summarize_by_reason(rows, examples=examples, reason=reason),
        runs=runs_in_range(engine, start, end, workspace=workspace),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``audit`` subcommand's options."""
    parser.add_argument("--from", dest="start", required=True, help="first day, inclusive (YYYY-MM-DD, UTC)")
    parser.add_argument("--to", dest="end", required=True, help="end day, exclusive (YYYY-MM-DD, UTC)")
    parser.add_argument("--reason", help="only contacts with this reason code, e.g. PHONE_TOO_SHORT")
    parser.add_argument("--workspace", help="only this respond.io workspace")
    parser.add_argument("--all", action="store_true", help="include failures already resolved")
    parser.add_argument("--examples", type=int, default=3, help="examples per reason code (default 3)")
    parser.add_argument("--csv", help="also write every failing contact to this CSV file")
    parser.add_argument("--conn-id", default="contact_sync_state", help="Airflow connection of the state DB")


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Run the subcommand (after ``prepare()``); returns the exit code. Bad dates exit 2 with a message."""
    import sys

    try:
        start, end = date_range(args.start, args.end)
    except AuditDateError as err:
        sys.stderr.write(f"contact-sync audit: error: {err}\n")
        return 2
    from hooks.state_db import StateDbHook

    engine = StateDbHook(state_db_conn_id=args.conn_id).engine
    report = audit(
        engine,
        start,
        end,
        reason=args.reason,
        workspace=args.workspace,
        open_only=not args.all,
        examples=max(args.examples, 0),
    )
    out.write(report.format())
    if args.csv:
        written = report.write_csv(args.csv)
        out.write(f"\nWrote {written} row(s) to {args.csv}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m contact_sync_ops.audit ...``: the same as ``contact-sync audit ...``."""
    import argparse
    import logging
    import sys

    from contact_sync_ops.airflow_context import prepare

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="contact-sync audit", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    prepare()
    return run(args, sys.stdout)


if __name__ == "__main__":
    raise SystemExit(main())

"""Reports over the state DB for analysts: failures by reason code, with examples, and the rows to export.

The SQL lives in ``include/sql/*.sql`` (dialect-neutral, bound parameters only) and runs through
``sqlalchemy.text()``. Reason codes are a JSON list per contact, so they are exploded and counted here in
Python instead of with each dialect's JSON functions. No Airflow import.

Where the ``.sql`` files are found (first match wins), see :func:`sql_dir`:

1. ``$CONTACT_SYNC_SQL_DIR``;
2. ``<project root>/include/sql`` next to this package (a checkout or ``pip install -e .``);
3. ``$AIRFLOW_HOME/include/sql`` (the Docker image copies ``include/`` to ``/opt/airflow/include``).
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, Integer, String, bindparam, text

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from sqlalchemy.engine import Engine
    from sqlalchemy.sql.elements import TextClause

log = logging.getLogger(__name__)

SQL_DIR_ENV = "CONTACT_SYNC_SQL_DIR"

#: Columns of a failure row, in CSV order.
FAILURE_COLUMNS: tuple[str, ...] = (
    "workspace",
    "sf_id",
    "outcome",
    "reasons",
    "raw_email",
    "raw_phone",
    "raw_mobile",
    "raw_country",
    "normalized_email",
    "normalized_phone",
    "region_assumed",
    "region_source",
    "owner_sf_id",
    "system_modstamp",
    "first_seen",
    "last_seen",
    "resolved_at",
    "run_key",
)
_TIME_COLUMNS = ("system_modstamp", "first_seen", "last_seen", "resolved_at")
_RUN_TIME_COLUMNS = ("window_start", "window_end", "started_at", "finished_at")

# Bound parameter types: timestamps must be rendered the way SQLAlchemy stores them (SQLite keeps text).
_PARAM_TYPES: dict[str, Any] = {
    "start": DateTime(timezone=True),
    "end": DateTime(timezone=True),
    "cutoff": DateTime(timezone=True),
    "workspace": String(),
    "open_only": Integer(),
}


class SqlFileNotFoundError(FileNotFoundError):
    """The report SQL files (``include/sql``) cannot be found."""


def _candidate_dirs() -> list[Path]:
    candidates: list[Path] = []
    override = os.environ.get(SQL_DIR_ENV)
    if override:
        candidates.append(Path(override).expanduser())
    candidates.append(Path(__file__).resolve().parents[2] / "include" / "sql")
    airflow_home = os.environ.get("AIRFLOW_HOME")
    if airflow_home:
        candidates.append(Path(airflow_home).expanduser() / "include" / "sql")
    return candidates


def sql_dir() -> Path:
    """The folder holding the report ``.sql`` files.

    :raises SqlFileNotFoundError: naming every place looked at, when none holds ``failures_in_range.sql``.
    """
    candidates = _candidate_dirs()
    for candidate in candidates:
        if (candidate / "failures_in_range.sql").is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise SqlFileNotFoundError(
        f"The report SQL files (include/sql/*.sql) were not found; looked in: {looked}. "
        f"Set {SQL_DIR_ENV} to the project's include/sql folder."
    )


@cache
def _read_sql(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load_sql(name: str) -> TextClause:
    """``include/sql/<name>.sql`` as a ``text()`` clause with typed bound parameters.

    :param name: file name without ``.sql``.
    """
    path = sql_dir() / f"{name}.sql"
    if not path.is_file():
        raise SqlFileNotFoundError(f"{path} does not exist")
    clause = text(_read_sql(path))
    present = clause.compile().params.keys()
    typed = [bindparam(key, type_=type_) for key, type_ in _PARAM_TYPES.items() if key in present]
    return clause.bindparams(*typed) if typed else clause


def as_utc(value: datetime | str | None) -> datetime | None:
    """A timestamp from either backend as an aware UTC datetime (SQLite returns naive or text values)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class FailureRow:
    """One contact that failed to validate or match (latest state), with its raw and normalised values."""

    workspace: str
    sf_id: str
    outcome: str
    reasons: tuple[str, ...]
    raw_email: str | None
    raw_phone: str | None
    raw_mobile: str | None
    raw_country: str | None
    normalized_email: str | None
    normalized_phone: str | None
    region_assumed: str | None
    region_source: str | None
    owner_sf_id: str | None
    system_modstamp: datetime | None
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    run_key: str

    @classmethod
    def from_mapping(cls, row: Any) -> FailureRow:
        values = {name: row[name] for name in FAILURE_COLUMNS}
        for name in _TIME_COLUMNS:
            values[name] = as_utc(values[name])
        reasons = _as_json(values["reasons"]) or []
        values["reasons"] = tuple(str(code) for code in reasons)
        return cls(**values)

    def as_csv_row(self) -> dict[str, str]:
        """Plain strings for CSV: reasons joined with ``;``, timestamps ISO 8601 UTC, ``None`` as empty."""
        out: dict[str, str] = {}
        for name in FAILURE_COLUMNS:
            value = getattr(self, name)
            if name == "reasons":
                out[name] = ";".join(value)
            elif isinstance(value, datetime):
                out[name] = value.isoformat()
            else:
                out[name] = "" if value is None else str(value)
        return out


@dataclass(frozen=True, slots=True)
class RunRow:
    """One ``sync_runs`` row."""

    dag_id: str
    run_id: str
    workspace: str
    window_start: datetime | None
    window_end: datetime | None
    status: str
    counts: dict[str, int]
    started_at: datetime
    finished_at: datetime | None


@dataclass(slots=True)
class ReasonSummary:
    """How many failing contacts carry one reason code, and a few of them as examples."""

    reason: str
    count: int = 0
    examples: list[FailureRow] = field(default_factory=list)

    def share(self, total: int) -> float:
        """Share of the failing contacts that carry this code (codes overlap: shares can sum above 1)."""
        return self.count / total if total else 0.0


def _params(start: datetime, end: datetime, workspace: str | None, **extra: Any) -> dict[str, Any]:
    start_utc, end_utc = as_utc(start), as_utc(end)
    assert start_utc is not None and end_utc is not None
    if start_utc >= end_utc:
        raise ValueError(
            f"empty range: start {start_utc.isoformat()} is not before end {end_utc.isoformat()}"
        )
    return {"start": start_utc, "end": end_utc, "workspace": workspace, **extra}


def iter_failures(
    engine: Engine,
    start: datetime,
    end: datetime,
    *,
    workspace: str | None = None,
    open_only: bool = True,
    reason: str | None = None,
) -> Iterator[FailureRow]:
    """Failures last seen in ``[start, end)``, oldest first, streamed.

    :param workspace: only this workspace (``None``: all).
    :param open_only: only failures not resolved yet.
    :param reason: only contacts carrying this reason code (exact, case-insensitive).
    """
    params = _params(start, end, workspace, open_only=1 if open_only else 0)
    wanted = reason.strip().upper() if reason else None
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=1000).execute(load_sql("failures_in_range"), params)
        for mapping in result.mappings():
            row = FailureRow.from_mapping(mapping)
            if wanted is None or wanted in row.reasons:
                yield row


def runs_in_range(
    engine: Engine, start: datetime, end: datetime, *, workspace: str | None = None
) -> list[RunRow]:
    """``sync_runs`` rows started in ``[start, end)``, oldest first."""
    with engine.connect() as connection:
        mappings = connection.execute(load_sql("runs_in_range"), _params(start, end, workspace)).mappings()
        runs = []
        for m in mappings:
            counts = _as_json(m["counts"]) or {}
            runs.append(
                RunRow(
                    dag_id=m["dag_id"],
                    run_id=m["run_id"],
                    workspace=m["workspace"],
                    window_start=as_utc(m["window_start"]),
                    window_end=as_utc(m["window_end"]),
                    status=m["status"],
                    counts={str(k): int(v) for k, v in counts.items()},
                    started_at=as_utc(m["started_at"]),  # type: ignore[arg-type]
                    finished_at=as_utc(m["finished_at"]),
                )
            )
        return runs


def summarize_by_reason(
    rows: Iterable[FailureRow], *, examples: int = 3, reason: str | None = None
) -> list[ReasonSummary]:
    """Count failing contacts per reason code (a contact with several codes counts once under each).

    :param examples: how many example contacts to keep per code (the most recently seen last, in row order).
    :param reason: only summarise this code (the other codes of the same contacts are left out).
    :return: one summary per code, most frequent first, ties by code.
    """
    wanted = reason.strip().upper() if reason else None
    summaries: dict[str, ReasonSummary] = {}
    for row in rows:
        for code in dict.fromkeys(row.reasons):  # a code listed twice on one contact counts once
            if wanted is not None and code != wanted:
                continue
            summary = summaries.get(code)
            if summary is None:
                summary = summaries[code] = ReasonSummary(reason=code)
            summary.count += 1
            if len(summary.examples) < examples:
                summary.examples.append(row)
    return sorted(summaries.values(), key=lambda s: (-s.count, s.reason))


def outcome_counts(rows: Iterable[FailureRow]) -> Counter[str]:
    """Failing contacts per outcome (``rejected``, ``held_duplicate``, ``retry_pending``)."""
    return Counter(row.outcome for row in rows)

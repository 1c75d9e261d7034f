"""Retention: how long the state DB keeps failures, runs and staging, and the cleanup that applies it.

Open failures are never deleted (an analyst still has to fix them); only failures resolved longer ago than
``failures_days``. The DELETE statements are ``include/sql/retention_*.sql`` (dialect-neutral, bound
parameters). Validation reports (Great Expectations Data Docs) are folders under a reports directory: each
direct sub-folder whose newest file is older than ``validation_reports_days`` is removed. No Airflow import.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from contact_sync.state.reports import as_utc, load_sql

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How many days each kind of state is kept.

    :param failures_days: resolved failures (open ones are kept for ever).
    :param runs_days: ``sync_runs`` rows, by run start.
    :param staging_days: ``staged_contacts`` of runs that started or finished longer ago.
    :param validation_reports_days: validation report (Data Docs) folders, by their newest file.
    """

    failures_days: int = 180
    runs_days: int = 365
    staging_days: int = 14
    validation_reports_days: int = 30

    def __post_init__(self) -> None:
        for name in ("failures_days", "runs_days", "staging_days", "validation_reports_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"RetentionPolicy.{name} must be a whole number of days >= 1, got {value!r}")


def cleanup(
    engine: Engine,
    policy: RetentionPolicy,
    now: datetime,
    reports_dir: str | Path | None = None,
) -> dict[str, int]:
    """Delete what the policy no longer keeps, in one transaction for the database part.

    :param now: the reference time (pass the run's ``data_interval_end``, not the wall clock).
    :param reports_dir: folder whose sub-folders are validation reports; ``None`` skips them.
    :return: counts deleted: ``matching_failures``, ``staged_contacts``, ``sync_runs``,
        ``validation_reports``; plus ``staged_contacts_orphaned`` (staging rows without a run row, kept).
    """
    now_utc = as_utc(now)
    if now_utc is None:
        raise ValueError("now is required")
    failures_cutoff = now_utc - timedelta(days=policy.failures_days)
    runs_cutoff = now_utc - timedelta(days=policy.runs_days)
    # Staging goes no later than its run row, else it could no longer be dated.
    staging_cutoff = max(now_utc - timedelta(days=policy.staging_days), runs_cutoff)
    counts: dict[str, int] = {}
    with engine.begin() as connection:
        counts["matching_failures"] = connection.execute(
            load_sql("retention_delete_resolved_failures"), {"cutoff": failures_cutoff}
        ).rowcount
        counts["staged_contacts"] = connection.execute(
            load_sql("retention_delete_staged_contacts"), {"cutoff": staging_cutoff}
        ).rowcount
        counts["sync_runs"] = connection.execute(
            load_sql("retention_delete_runs"), {"cutoff": runs_cutoff}
        ).rowcount
        counts["staged_contacts_orphaned"] = int(connection.execute(load_sql("staged_orphans")).scalar_one())
    counts["validation_reports"] = (
        _remove_old_report_folders(
            Path(reports_dir), now_utc - timedelta(days=policy.validation_reports_days)
        )
        if reports_dir is not None
        else 0
    )
    if counts["staged_contacts_orphaned"]:
        log.warning(
            "%s staged contact rows belong to no sync_runs row; retention keeps them (they cannot be dated)",
            counts["staged_contacts_orphaned"],
        )
    log.info("Retention cleanup deleted %s", counts)
    return counts


def _newest_mtime(folder: Path) -> float:
    newest = folder.lstat().st_mtime
    for path in folder.rglob("*"):
        if not path.is_symlink():
            newest = max(newest, path.lstat().st_mtime)
    return newest


def _remove_old_report_folders(reports_dir: Path, cutoff: datetime) -> int:
    if not reports_dir.is_dir():
        log.info("No validation reports folder at %s; nothing to clean", reports_dir)
        return 0
    removed = 0
    for child in sorted(reports_dir.iterdir()):
        if child.is_symlink() or not child.is_dir():
            continue  # only real report folders; files and links are left alone
        newest = datetime.fromtimestamp(_newest_mtime(child), tz=UTC)
        if newest < cutoff:
            shutil.rmtree(child)
            removed += 1
    return removed

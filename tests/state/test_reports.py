"""Failure reports over the state DB (include/sql + contact_sync/state/reports.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from contact_sync.state.reports import (
    SqlFileNotFoundError,
    iter_failures,
    load_sql,
    runs_in_range,
    sql_dir,
    summarize_by_reason,
)
from contact_sync.state.schema import matching_failures, sync_runs

NOV1 = datetime(2026, 11, 1, tzinfo=UTC)
NOV8 = datetime(2026, 11, 8, tzinfo=UTC)


def failure(sf_id: str, reasons: list[str], last_seen: datetime, **overrides: Any) -> dict[str, Any]:
    """A matching_failures row with plausible defaults."""
    row: dict[str, Any] = {
        "workspace": "acme",
        "sf_id": sf_id,
        "run_key": "contact_sync/scheduled__2026-11-01T00:00:00+00:00",
        "outcome": "rejected",
        "reasons": reasons,
        "raw_email": None,
        "raw_phone": None,
        "raw_mobile": None,
        "raw_country": None,
        "normalized_email": None,
        "normalized_phone": None,
        "region_assumed": None,
        "region_source": None,
        "owner_sf_id": None,
        "system_modstamp": last_seen - timedelta(hours=1),
        "first_seen": last_seen - timedelta(days=1),
        "last_seen": last_seen,
        "resolved_at": None,
    }
    row.update(overrides)
    return row


def run_row(run_id: str, started_at: datetime, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "dag_id": "contact_sync",
        "run_id": run_id,
        "workspace": "acme",
        "window_start": started_at - timedelta(hours=1),
        "window_end": started_at,
        "status": "success",
        "counts": {"created": 5, "rejected": 2},
        "started_at": started_at,
        "finished_at": started_at + timedelta(minutes=3),
        "details": None,
    }
    row.update(overrides)
    return row


def seed(engine, failures=(), runs=()) -> None:
    with engine.begin() as connection:
        if failures:
            connection.execute(insert(matching_failures), list(failures))
        if runs:
            connection.execute(insert(sync_runs), list(runs))


def seed_week(engine) -> None:
    """Failures around the week [Nov 1, Nov 8): several reasons, boundaries, resolved and other workspaces."""
    seed(
        engine,
        failures=[
            failure(
                "003A00000000001AAA",
                ["PHONE_TOO_SHORT", "EMAIL_PLACEHOLDER", "NO_VALID_IDENTIFIER"],
                NOV1,  # exactly at the inclusive start
                raw_email="n/a",
                raw_phone="12 3",
                raw_country="Deutschland",
                region_assumed="DE",
                region_source="country",
            ),
            failure(
                "003A00000000002AAA",
                ["PHONE_TOO_SHORT", "NO_VALID_IDENTIFIER"],
                NOV1 + timedelta(days=2),
                raw_phone="555-0123",
                region_assumed="US",
                region_source="default",
            ),
            failure(
                "003A00000000003AAA",
                ["DUPLICATE_EMAIL"],
                NOV8 - timedelta(microseconds=1),  # last instant inside
                outcome="held_duplicate",
                raw_email="Jane@Example.com",
                normalized_email="jane@example.com",
                owner_sf_id="003A00000000009AAA",
            ),
            failure("003A00000000004AAA", ["PHONE_TOO_SHORT"], NOV8),  # exclusive end: out
            failure("003A00000000005AAA", ["PHONE_TOO_SHORT"], NOV1 - timedelta(microseconds=1)),  # before
            failure(
                "003A00000000006AAA",
                ["EMAIL_NO_AT", "NO_VALID_IDENTIFIER"],
                NOV1 + timedelta(days=3),
                resolved_at=NOV1 + timedelta(days=4),
            ),
            failure("003A00000000007AAA", ["PHONE_TOO_SHORT"], NOV1 + timedelta(days=1), workspace="other"),
        ],
        runs=[
            run_row("scheduled__2026-11-01", NOV1),
            run_row("scheduled__2026-11-08", NOV8),
            run_row("scheduled__2026-10-31", NOV1 - timedelta(seconds=1), status="failed"),
        ],
    )


def ids(rows) -> list[str]:
    return [row.sf_id[:15][-1] for row in rows]


def test_sql_files_are_found_and_take_bound_parameters() -> None:
    assert (sql_dir() / "failures_in_range.sql").is_file()
    params = load_sql("failures_in_range").compile().params
    assert set(params) == {"start", "end", "workspace", "open_only"}


def test_missing_sql_dir_is_a_clear_error(monkeypatch, tmp_path) -> None:
    import contact_sync.state.reports as reports

    monkeypatch.setattr(reports, "_candidate_dirs", lambda: [tmp_path / "nowhere"])
    with pytest.raises(SqlFileNotFoundError, match="CONTACT_SYNC_SQL_DIR"):
        sql_dir()


def test_sql_dir_override(monkeypatch, tmp_path) -> None:
    (tmp_path / "failures_in_range.sql").write_text("SELECT 1", encoding="utf-8")
    monkeypatch.setenv("CONTACT_SYNC_SQL_DIR", str(tmp_path))
    assert sql_dir() == tmp_path


def test_range_is_inclusive_start_exclusive_end_and_open_only(state_engine) -> None:
    seed_week(state_engine)

    open_rows = list(iter_failures(state_engine, NOV1, NOV8))
    all_rows = list(iter_failures(state_engine, NOV1, NOV8, open_only=False))

    assert sorted(ids(open_rows)) == ["1", "2", "3", "7"]
    assert sorted(ids(all_rows)) == ["1", "2", "3", "6", "7"]
    assert [r.last_seen for r in open_rows] == sorted(r.last_seen for r in open_rows)
    assert all(r.last_seen.tzinfo is not None for r in all_rows)


def test_workspace_and_reason_filters(state_engine) -> None:
    seed_week(state_engine)

    acme = list(iter_failures(state_engine, NOV1, NOV8, workspace="acme"))
    short = list(iter_failures(state_engine, NOV1, NOV8, reason="phone_too_short"))

    assert sorted(ids(acme)) == ["1", "2", "3"]
    assert sorted(ids(short)) == ["1", "2", "7"]


def test_counts_by_reason_with_several_reasons_per_contact(state_engine) -> None:
    seed_week(state_engine)
    rows = list(iter_failures(state_engine, NOV1, NOV8, open_only=False))

    summary = summarize_by_reason(rows, examples=1)

    assert [(s.reason, s.count) for s in summary] == [
        ("NO_VALID_IDENTIFIER", 3),
        ("PHONE_TOO_SHORT", 3),
        ("DUPLICATE_EMAIL", 1),
        ("EMAIL_NO_AT", 1),
        ("EMAIL_PLACEHOLDER", 1),
    ]
    assert all(len(s.examples) == 1 for s in summary)
    by_code = {s.reason: s for s in summary}
    assert by_code["PHONE_TOO_SHORT"].share(len(rows)) == pytest.approx(3 / 5)
    example = by_code["EMAIL_PLACEHOLDER"].examples[0]
    assert (example.raw_email, example.raw_phone, example.raw_country) == ("n/a", "12 3", "Deutschland")
    assert (example.region_assumed, example.region_source) == ("DE", "country")
    held = by_code["DUPLICATE_EMAIL"].examples[0]
    assert (held.outcome, held.normalized_email, held.owner_sf_id) == (
        "held_duplicate",
        "jane@example.com",
        "003A00000000009AAA",
    )


def test_summary_for_one_reason_leaves_other_codes_out(state_engine) -> None:
    seed_week(state_engine)
    rows = list(iter_failures(state_engine, NOV1, NOV8, reason="PHONE_TOO_SHORT"))

    summary = summarize_by_reason(rows, examples=5, reason="PHONE_TOO_SHORT")

    assert [(s.reason, s.count, len(s.examples)) for s in summary] == [("PHONE_TOO_SHORT", 3, 3)]


def test_runs_in_range(state_engine) -> None:
    seed_week(state_engine)

    runs = runs_in_range(state_engine, NOV1, NOV8)

    assert [r.run_id for r in runs] == ["scheduled__2026-11-01"]
    assert runs[0].counts == {"created": 5, "rejected": 2}
    assert runs[0].started_at == NOV1


def test_empty_range_is_refused(state_engine) -> None:
    with pytest.raises(ValueError, match="not before"):
        list(iter_failures(state_engine, NOV8, NOV1))


def test_every_sql_file_binds_only_known_typed_parameters() -> None:
    from contact_sync.state.reports import _PARAM_TYPES

    files = sorted(sql_dir().glob("*.sql"))
    assert len(files) >= 5
    for path in files:
        params = set(load_sql(path.stem).compile().params)
        assert params <= set(_PARAM_TYPES), (path.name, params)

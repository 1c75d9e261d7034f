"""`contact-sync audit`: the report for analysts, its CSV export and its date handling."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from contact_sync_ops.audit import AuditDateError, audit, date_range
from tests.state.test_reports import NOV1, NOV8, failure, seed, seed_week

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def seeded_db(tmp_path):
    """A migrated SQLite state DB with the week's failures; yields (path, env with the connection)."""
    from contact_sync.state import make_engine, migrate

    path = tmp_path / "state.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    seed_week(engine)
    engine.dispose()
    conn = {"conn_type": "sqlite", "host": str(path)}
    env = {**os.environ, "AIRFLOW_CONN_CS_AUDIT": json.dumps(conn), "PYTHONIOENCODING": "utf-8"}
    return path, env


AUDIT = [sys.executable, "-m", "contact_sync_ops.cli", "audit"]


def test_audit_command_prints_table_and_writes_csv(seeded_db, tmp_path) -> None:
    _, env = seeded_db
    out_csv = tmp_path / "out.csv"

    result = subprocess.run(  # noqa: S603
        [*AUDIT, "--from", "2026-11-01", "--to", "2026-11-08", "--conn-id", "cs_audit"]
        + ["--csv", str(out_csv)],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_DIR,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert "Failing contacts: 4 (1 held_duplicate, 3 rejected)" in lines
    assert "Runs started in the range: 1 (1 success); contacts read: 7" in lines
    table = [line.split() for line in lines if line.startswith(("PHONE_", "NO_VALID", "DUPLICATE", "EMAIL_"))]
    assert ["PHONE_TOO_SHORT", "3", "75.0%"] in table
    assert ["NO_VALID_IDENTIFIER", "2", "50.0%"] in table
    assert ["DUPLICATE_EMAIL", "1", "25.0%"] in table
    assert "    email 'n/a' -> ∅" in lines
    assert "    country 'Deutschland'; region assumed DE (country)" in lines
    assert f"Wrote 4 row(s) to {out_csv}" in lines
    with out_csv.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["sf_id"] for r in rows) == [f"003A0000000000{n}AAA" for n in (1, 2, 3, 7)]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-13-01", "2026-11-08", "--from '2026-13-01' is not a date"),
        ("2026-11-01", "next week", "--to 'next week' is not a date"),
        ("2026-11-08", "2026-11-01", "is not before --to"),
        ("2026-11-01", "2026-11-01", "is not before --to"),
    ],
)
def test_bad_dates_exit_2_with_a_clear_message(start, end, message, seeded_db) -> None:
    _, env = seeded_db

    result = subprocess.run(  # noqa: S603
        [*AUDIT, "--from", start, "--to", end, "--conn-id", "cs_audit"],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_DIR,
        timeout=120,
        check=False,
    )

    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_date_range_is_utc_inclusive_exclusive() -> None:
    assert date_range("2026-11-01", "2026-11-08") == (NOV1, NOV8)
    assert date_range("2026-11-01T08:00:00Z", "2026-11-01T12:00:00+02:00") == (
        NOV1 + timedelta(hours=8),
        NOV1 + timedelta(hours=10),
    )
    assert date_range("2026-11-01T08:00", "2026-11-02")[0] == NOV1 + timedelta(hours=8)  # naive = UTC
    with pytest.raises(AuditDateError, match="not before"):
        date_range("2026-11-01T08:00:00Z", "2026-11-01T10:00:00+02:00")  # the same instant: empty


def test_csv_round_trips_unicode_commas_quotes_and_newlines(state_engine, tmp_path) -> None:
    nasty = {
        "raw_email": 'José Müller, "Sales" <jose@müller.de>; b@x.com',
        "raw_phone": "+49 (0)30, 1234\nExt. 5",
        "raw_mobile": "=1+2",
        "raw_country": "Côte d’Ivoire",
        "normalized_email": None,
        "region_assumed": "CI",
        "region_source": "country",
    }
    seed(
        state_engine,
        failures=[
            failure("003A00000000001AAA", ["EMAIL_MULTIPLE", "PHONE_NOT_A_NUMBER"], NOV1, **nasty),
            failure("003A00000000002AAA", ["PHONE_TOO_SHORT"], NOV1 + timedelta(hours=1), raw_phone="١٢٣"),
        ],
    )
    report = audit(state_engine, NOV1, NOV8)
    path = tmp_path / "audit.csv"

    assert report.write_csv(path) == 2
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))

    first = rows[0]
    for name, value in nasty.items():
        assert first[name] == ("" if value is None else value), name
    assert first["reasons"] == "EMAIL_MULTIPLE;PHONE_NOT_A_NUMBER"
    assert first["last_seen"] == NOV1.isoformat()
    assert first["resolved_at"] == ""
    assert rows[1]["raw_phone"] == "١٢٣"
    assert list(first) == list(io.StringIO(path.read_text(encoding="utf-8")).readline().strip().split(","))


def test_audit_report_format_for_an_empty_range(state_engine) -> None:
    report = audit(state_engine, NOV1, NOV8, reason="PHONE_TOO_SHORT", workspace="acme")

    text = report.format()

    assert "No failures in this range." in text
    assert "workspace: acme" in text and "reason: PHONE_TOO_SHORT" in text


def test_audit_examples_limit_and_open_only(state_engine) -> None:
    seed_week(state_engine)

    report = audit(state_engine, NOV1, NOV8, open_only=False, examples=2)

    assert report.total == 5
    assert {s.reason: len(s.examples) for s in report.by_reason}["PHONE_TOO_SHORT"] == 2
    assert "open and resolved" in report.format()
    assert "; resolved 2026-11-05T00:00:00+00:00" in report.format()

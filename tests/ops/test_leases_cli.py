"""`contact-sync leases` shows on-call staff who holds which contacts of a sync run, and which leases are a dead
worker's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contact_sync.state import make_engine, sync_store
from contact_sync_ops.cli import main
from tests.state.test_leases import RUN, WS, stage


def test_leases_lists_holders_and_marks_expired_ones(state_db_conn, capsys):
    engine = make_engine(state_db_conn)
    stage(engine, 5)
    sync_store.start_run(
        engine, dag_id=RUN.split("/")[0], run_id=RUN.split("/")[1], workspace=WS,
        window_start=datetime(2026, 11, 1, tzinfo=UTC), window_end=datetime(2026, 11, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    now = datetime.now(UTC)
    sync_store.claim_rows(engine, RUN, WS, 0, "w1:111:run:0:1", 2, 600, at=now)
    sync_store.claim_rows(engine, RUN, WS, 0, "w2:222:run:0:1", 2, 60, at=now - timedelta(minutes=5))

    assert main(["leases", "--conn-id", "cs_state"]) == 0

    out = capsys.readouterr().out
    assert f"{RUN}: 4 contact(s) leased" in out
    (held,) = [line for line in out.splitlines() if "w1:111" in line]
    (dead,) = [line for line in out.splitlines() if "w2:222" in line]
    assert "2 rows" in held and "EXPIRED" not in held
    assert "2 rows" in dead and "EXPIRED" in dead


def test_leases_without_runs_says_so(state_db_conn, capsys):
    assert main(["leases", "--conn-id", "cs_state"]) == 0
    assert "no sync run recorded yet" in capsys.readouterr().out

"""Leases on staged contacts (several sync workers on one chunk), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import JSON, column, insert, inspect, select, table

from contact_sync.state import make_engine, migrate, sync_store
from contact_sync.state.schema import staged_contacts as t

RUN = "salesforce_contacts_sync/manual__2026-11-01T12:00:00+00:00"
WS = "respond_io_default"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def stage(engine, n: int, *, chunk: int = 0, first: int = 0) -> list[str]:
    """``n`` contacts to write in ``chunk`` (created one second apart); returns their Ids in claim order."""
    records = [
        {"Id": f"003{first + i:015d}", "CreatedDate": (T0 + timedelta(seconds=first + i)).isoformat()}
        for i in range(n)
    ]
    sync_store.stage_records(engine, RUN, WS, "Contact", records, datetime.fromisoformat)
    decisions = [
        {"sf_id": r["Id"], "action": "write", "identifier": f"email:p{r['Id']}@example.com", "chunk": chunk}
        for r in records
    ]
    sync_store.save_decisions(engine, RUN, WS, decisions)
    return [r["Id"] for r in records]


def claim(engine, owner: str, limit: int = 100, *, at: datetime = T0, lease: float = 60, **kwargs):
    return sync_store.claim_rows(engine, RUN, WS, 0, owner, limit, lease, at=at, **kwargs)


def leases(engine) -> dict[str, tuple[str | None, datetime | None]]:
    with engine.connect() as connection:
        rows = connection.execute(select(t.c.sf_id, t.c.lease_owner, t.c.lease_until)).all()
    return {r.sf_id: (r.lease_owner, r.lease_until and r.lease_until.replace(tzinfo=r.lease_until.tzinfo or UTC))
            for r in rows}  # fmt: skip


def finish(engine, row, outcome: str = "created") -> None:
    sync_store.record_outcome(engine, run_key=RUN, workspace=WS, row=row, outcome=outcome, ledger=False)


# -- exclusive under concurrency ---------------------------------------------------------------------------


def test_concurrent_claimers_get_disjoint_rows_that_cover_the_chunk(state_db_url):
    engine = make_engine(state_db_url)
    migrate(engine)
    ids = stage(engine, 120)
    workers = 4
    barrier = threading.Barrier(workers)
    got: dict[int, list[str]] = {n: [] for n in range(workers)}
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        own = make_engine(state_db_url)  # its own pool: separate connections, as separate workers have
        try:
            barrier.wait()
            while batch := sync_store.claim_rows(own, RUN, WS, 0, f"host:{n}:run:0:1", 7, 60):
                got[n] += [row["sf_id"] for row in batch]
                for row in batch:
                    assert row["lease_owner"] == f"host:{n}:run:0:1"
                    finish(own, row)
        except BaseException as err:  # noqa: BLE001 - reported by the assertion below
            errors.append(err)
        finally:
            own.dispose()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    claimed = [sf_id for rows in got.values() for sf_id in rows]
    assert len(claimed) == len(set(claimed)) == 120  # disjoint: no row went to two claimers
    assert set(claimed) == set(ids)
    assert all(owner is None for owner, _ in leases(engine).values())  # every outcome cleared its lease
    engine.dispose()


@pytest.mark.postgres
def test_postgres_claimers_skip_rows_locked_by_another_claim_instead_of_waiting(postgres_database_url):
    engine = make_engine(postgres_database_url)
    migrate(engine)
    ids = stage(engine, 10)
    # A claimer that would fail at once if it waited for a row lock (no SKIP LOCKED).
    impatient = make_engine(postgres_database_url, connect_args={"options": "-c lock_timeout=500"})
    with engine.connect() as other:
        locked = (
            other.execute(select(t.c.sf_id).where(t.c.sf_id.in_(ids[:3])).with_for_update()).scalars().all()
        )  # another claim's transaction, still open

        batch = claim(impatient, "host:2:run:0:1")

        other.rollback()
    assert sorted(locked) == ids[:3]
    assert [row["sf_id"] for row in batch] == ids[3:]
    impatient.dispose()
    engine.dispose()


# -- who may claim what ------------------------------------------------------------------------------------


def test_claim_returns_rows_in_creation_order_with_the_lease_set(state_engine):
    ids = stage(state_engine, 5)

    batch = claim(state_engine, "host:1:run:0:1", 3, lease=90)

    assert [row["sf_id"] for row in batch] == ids[:3]
    assert all(row["taken_over_from"] is None for row in batch)
    stored = leases(state_engine)
    assert [stored[i] for i in ids[:3]] == [("host:1:run:0:1", T0 + timedelta(seconds=90))] * 3
    assert [stored[i] for i in ids[3:]] == [(None, None)] * 2


def test_an_unexpired_lease_of_another_owner_is_not_claimable_an_expired_one_is_taken_over(state_engine):
    ids = stage(state_engine, 4)
    claim(state_engine, "dead:1:run:0:1", 3, lease=60)

    before = claim(state_engine, "live:2:run:0:2", at=T0 + timedelta(seconds=30))
    held = sync_store.foreign_leases(
        state_engine, RUN, WS, 0, "live:2:run:0:2", at=T0 + timedelta(seconds=31)
    )
    after = claim(state_engine, "live:2:run:0:2", at=T0 + timedelta(seconds=61))

    assert [row["sf_id"] for row in before] == ids[3:]  # only the unleased row
    assert [(h.owner, h.rows, h.until) for h in held] == [("dead:1:run:0:1", 3, T0 + timedelta(seconds=60))]
    assert [row["sf_id"] for row in after] == ids  # take-over, plus its own (still leased) row
    assert [(row["taken_over_from"], row["taken_over_until"]) for row in after[:3]] == [
        ("dead:1:run:0:1", T0 + timedelta(seconds=60))
    ] * 3
    assert after[3]["taken_over_from"] is None
    assert {owner for owner, _ in leases(state_engine).values()} == {"live:2:run:0:2"}
    assert (
        sync_store.foreign_leases(state_engine, RUN, WS, 0, "live:2:run:0:2", at=T0 + timedelta(seconds=61))
        == []
    )


def test_own_lease_is_claimable_again_unless_the_owner_says_not(state_engine):
    ids = stage(state_engine, 3)
    claim(state_engine, "host:1:run:0:1", 2)

    without = claim(state_engine, "host:1:run:0:1", reclaim_own=False, at=T0 + timedelta(seconds=1))
    again = claim(state_engine, "host:1:run:0:1", at=T0 + timedelta(seconds=2))

    assert [row["sf_id"] for row in without] == ids[2:]
    assert [row["sf_id"] for row in again] == ids
    assert leases(state_engine)[ids[0]][1] == T0 + timedelta(seconds=62)  # the re-claim renewed the lease


def test_finished_rows_are_never_claimed_retry_pending_ones_are_unless_excluded(state_engine):
    ids = stage(state_engine, 3)
    first = claim(state_engine, "host:1:run:0:1")
    finish(state_engine, first[0], "created")
    finish(state_engine, first[1], "retry_pending")
    finish(state_engine, first[2], "rejected")

    excluded = claim(state_engine, "host:1:run:0:1", exclude={ids[1]}, at=T0 + timedelta(seconds=1))
    retried = claim(state_engine, "host:2:run:0:2", at=T0 + timedelta(seconds=1))

    assert excluded == []
    assert [row["sf_id"] for row in retried] == [ids[1]]
    assert sync_store.pending_count(state_engine, RUN, WS, 0) == 1


def test_claims_stay_within_their_chunk(state_engine):
    stage(state_engine, 3, chunk=0)
    other = stage(state_engine, 2, chunk=1, first=100)

    batch = sync_store.claim_rows(state_engine, RUN, WS, 1, "host:1:run:1:1", 10, 60, at=T0)

    assert [row["sf_id"] for row in batch] == other


# -- lease life cycle --------------------------------------------------------------------------------------


def test_record_outcome_clears_the_lease(state_engine):
    ids = stage(state_engine, 2)
    batch = claim(state_engine, "host:1:run:0:1")

    finish(state_engine, batch[0])

    stored = leases(state_engine)
    assert stored[ids[0]] == (None, None)
    assert stored[ids[1]][0] == "host:1:run:0:1"


def test_renew_extends_only_my_still_open_leases(state_engine):
    ids = stage(state_engine, 5)
    mine = claim(state_engine, "host:1:run:0:1", 3)
    claim(state_engine, "host:2:run:0:1", 2)
    finish(state_engine, mine[0])

    renewed = sync_store.renew_leases(
        state_engine, RUN, WS, 0, "host:1:run:0:1", 60, at=T0 + timedelta(seconds=40)
    )

    stored = leases(state_engine)
    assert renewed == 2
    assert stored[ids[0]] == (None, None)  # finished: stays without a lease
    assert [stored[i] for i in ids[1:3]] == [("host:1:run:0:1", T0 + timedelta(seconds=100))] * 2
    assert [stored[i] for i in ids[3:]] == [("host:2:run:0:1", T0 + timedelta(seconds=60))] * 2


def test_renew_does_not_win_back_a_lease_another_owner_took_over(state_engine):
    ids = stage(state_engine, 2)
    claim(state_engine, "slow:1:run:0:1", lease=10)
    claim(state_engine, "host:2:run:0:2", lease=10, at=T0 + timedelta(seconds=11))  # took both over

    renewed = sync_store.renew_leases(
        state_engine, RUN, WS, 0, "slow:1:run:0:1", 10, at=T0 + timedelta(seconds=12)
    )

    assert renewed == 0
    assert {leases(state_engine)[i][0] for i in ids} == {"host:2:run:0:2"}


def test_release_frees_my_rows_at_once(state_engine):
    ids = stage(state_engine, 3)
    claim(state_engine, "host:1:run:0:1", 2)
    claim(state_engine, "host:2:run:0:1", 1)

    released = sync_store.release_leases(state_engine, RUN, WS, 0, "host:1:run:0:1")
    batch = claim(state_engine, "host:3:run:0:2", at=T0 + timedelta(seconds=1))

    assert released == 2
    assert [row["sf_id"] for row in batch] == ids[:2]


def test_lease_summary_says_who_holds_what(state_engine):
    stage(state_engine, 3)
    stage(state_engine, 2, chunk=1, first=100)
    claim(state_engine, "host:1:run:0:1", 2, lease=30)
    sync_store.claim_rows(state_engine, RUN, WS, 1, "host:2:run:1:1", 5, 120, at=T0)

    summary = sync_store.lease_summary(state_engine, RUN, at=T0 + timedelta(seconds=60))

    assert summary == [
        {"workspace": WS, "chunk": 0, "owner": "host:1:run:0:1", "rows": 2,
         "until": T0 + timedelta(seconds=30), "expired": True},
        {"workspace": WS, "chunk": 1, "owner": "host:2:run:1:1", "rows": 2,
         "until": T0 + timedelta(seconds=120), "expired": False},
    ]  # fmt: skip


# -- owner strings and the migration -----------------------------------------------------------------------


def test_lease_owner_starts_with_hostname_and_pid_and_keeps_its_try_when_shortened():
    owner = sync_store.lease_owner_for("manual__2026-11-01T12:00:00+00:00", 3, 2)
    long_a = sync_store.lease_owner_for("scheduled__" + "a" * 300, 0, 1)
    long_b = sync_store.lease_owner_for("scheduled__" + "a" * 299 + "b", 0, 1)

    host, pid = sync_store.parse_lease_owner(owner)
    assert (host, pid) == (socket.gethostname().replace(":", "-")[:60], os.getpid())
    assert owner.split(":")[:2] == [host, str(os.getpid())]
    assert owner.endswith(":manual__2026-11-01T12:00:00+00:00:3:2")
    assert sync_store.lease_owner_for("r", 0, None).endswith(":r:0:x")
    assert len(long_a) <= sync_store.LEASE_OWNER_MAX and long_a.endswith(":0:1")
    assert long_a != long_b
    assert t.c.lease_owner.type.length == sync_store.LEASE_OWNER_MAX


def test_migration_0006_adds_empty_leases_to_staged_rows(state_db_url):
    engine = make_engine(state_db_url)
    migrate(engine, "0005")
    before = table(  # staged_contacts as it was at 0005
        "staged_contacts", *(column(c) for c in ("run_key", "workspace", "sf_id", "sobject", "action", "chunk")),
        column("record", JSON),
    )  # fmt: skip
    with engine.begin() as connection:
        connection.execute(
            insert(before).values(run_key=RUN, workspace=WS, sf_id="003000000000000001", sobject="Contact",
                                  record={}, action="write", chunk=0)
        )  # fmt: skip

    migrate(engine)

    assert leases(engine) == {"003000000000000001": (None, None)}
    assert "ix_staged_contacts_claim" in {i["name"] for i in inspect(engine).get_indexes("staged_contacts")}
    batch = claim(engine, "host:1:run:0:1")
    assert [row["sf_id"] for row in batch] == ["003000000000000001"]
    engine.dispose()

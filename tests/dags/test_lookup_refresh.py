"""The lookup refresh against the Salesforce and respond.io stand-ins, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from sqlalchemy import delete, insert, select, update

from contact_sync.state import lookup_store, sync_store
from contact_sync.state.schema import contacts_lookup, sync_ledger
from tests.fixtures.connections import respond_io_connection, salesforce_connection, state_connection

pytestmark = pytest.mark.integration

T0 = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)


def sf_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def person(n: int, at: datetime, **fields) -> dict:
    return {
        "FirstName": f"Ana{n}",
        "LastName": f"Silva{n}",
        "Email": f"ana{n}@example.com",
        "Phone": f"+1 415 555 {2600 + n:04d}",
        "Title": "Buyer",
        "CreatedDate": sf_time(at),
        "SystemModstamp": sf_time(at),
        **fields,
    }


@pytest.fixture
def refresh(salesforce, respond_io, state_engine):
    """``refresh(end, mode="incremental")`` runs one LookupRefreshJob on this test's state DB."""
    from operators.lookup_refresh import LookupRefreshJob

    from contact_sync.settings import load_settings

    env = {
        "AIRFLOW_CONN_SALESFORCE_DEFAULT": salesforce_connection(salesforce),
        "AIRFLOW_CONN_RESPOND_IO_DEFAULT": respond_io_connection(respond_io),
        "AIRFLOW_CONN_CONTACT_SYNC_STATE": state_connection(
            url=state_engine.url.render_as_string(hide_password=False)
        ),
    }
    with mock.patch.dict("os.environ", env):
        settings = load_settings({"CONTACT_SYNC_LOCAL_CONFIG": "/nonexistent"})

        def run(end: datetime, mode: str = "incremental") -> dict:
            return LookupRefreshJob(settings, run_end=end, mode=mode).run()

        yield run


def rows(engine) -> dict[str, dict]:
    with engine.connect() as connection:
        return {r.sf_id: dict(r._mapping) for r in connection.execute(select(contacts_lookup))}


def test_edits_deletes_and_merges_appear_after_one_run(salesforce, refresh, state_engine):
    ids = salesforce.load_contacts([person(n, T0 + timedelta(minutes=n)) for n in range(5)])
    first = refresh(T0 + timedelta(hours=1))
    assert first["mode"] == "full" and first["upserted"] == 5
    assert lookup_store.get_watermark(state_engine) == T0 + timedelta(hours=1)

    later = T0 + timedelta(hours=2)
    salesforce.edit(ids[0], {"Title": "CTO", "Phone": "+44 20 7946 0958"}, at=sf_time(later))
    salesforce.delete(ids[1], at=sf_time(later))
    salesforce.merge(ids[2], ids[3], at=sf_time(later))
    second = refresh(later + timedelta(minutes=1))

    table = rows(state_engine)
    assert second["mode"] == "incremental" and second["deleted"] == 2
    assert sorted(table) == sorted([ids[0], ids[2], ids[4]])
    assert table[ids[0]]["fields"]["Title"] == "CTO" and table[ids[0]]["phone_key"] == "+442079460958"
    assert table[ids[0]]["fields"]["Phone"] == "+44 20 7946 0958"  # shown as Salesforce holds it


def test_shared_keys_answer_with_every_candidate(salesforce, refresh, state_engine):
    shared = {"Email": "Info@Example.com", "Phone": "(415) 555-2671"}
    ids = salesforce.load_contacts([person(1, T0, **shared), person(2, T0, **shared), person(3, T0)])
    refresh(T0 + timedelta(hours=1))

    by_email = sync_store.lookup(state_engine, email_key="info@example.com")
    by_phone = sync_store.lookup(state_engine, phone_key="+14155552671")

    assert sorted(r["sf_id"] for r in by_email) == sorted(ids[:2])
    assert all(r["email_ambiguous"] and r["phone_ambiguous"] for r in by_email)
    assert [r["sf_id"] for r in by_phone] == sorted(ids[:2])
    assert not rows(state_engine)[ids[2]]["email_ambiguous"]


def test_reconcile_repairs_a_tampered_table(salesforce, refresh, state_engine):
    ids = salesforce.load_contacts([person(n, T0 + timedelta(minutes=n)) for n in range(4)])
    refresh(T0 + timedelta(hours=1))
    before = rows(state_engine)
    with state_engine.begin() as connection:
        connection.execute(delete(contacts_lookup).where(contacts_lookup.c.sf_id == ids[0]))
        connection.execute(
            update(contacts_lookup)
            .where(contacts_lookup.c.sf_id == ids[1])
            .values(email_key="wrong@example.com", system_modstamp=T0 - timedelta(days=1))
        )
        connection.execute(
            insert(contacts_lookup).values(
                sf_id="003000000000BOGUS",
                email_key="ghost@example.com",
                fields={},
                refreshed_at=T0,
                email_ambiguous=False,
                phone_ambiguous=False,
            )  # fmt: skip
        )

    summary = refresh(T0 + timedelta(hours=2), mode="reconcile")

    assert (summary["missing"], summary["stale"], summary["extra"]) == (1, 1, 1)
    after = rows(state_engine)
    assert sorted(after) == sorted(ids)
    assert {k: after[k]["email_key"] for k in ids} == {k: before[k]["email_key"] for k in ids}


def test_catches_up_after_an_outage_in_one_run(salesforce, refresh, state_engine):
    ids = salesforce.load_contacts([person(n, T0) for n in range(3)])
    refresh(T0 + timedelta(minutes=1))
    # Three hours without runs; edits keep happening.
    for hour, sf_id in enumerate(ids, start=1):
        salesforce.edit(sf_id, {"Title": f"Edited {hour}"}, at=sf_time(T0 + timedelta(hours=hour)))

    summary = refresh(T0 + timedelta(hours=4))

    assert summary["upserted"] == 3
    assert sorted(r["fields"]["Title"] for r in rows(state_engine).values()) == [
        "Edited 1",
        "Edited 2",
        "Edited 3",
    ]
    assert lookup_store.get_watermark(state_engine) == T0 + timedelta(hours=4)


def test_mirrored_fields_reach_respond_io_and_are_not_rewritten_when_unchanged(
    salesforce, respond_io, refresh, state_engine
):
    ids = salesforce.load_contacts([person(1, T0), person(2, T0)])
    contact_ids = respond_io.seed_contacts([{"firstName": "Ana1", "email": "ana1@example.com"}])
    with state_engine.begin() as connection:  # contact 1 was synced earlier; contact 2 never was
        connection.execute(
            insert(sync_ledger).values(
                workspace="respond_io_default",
                sf_id=ids[0],
                respond_io_contact_id=contact_ids[0],
                identifier="email:ana1@example.com",
                outcome="created",
                written_fields={},
                status="synced",
                attempts=1,
                run_key="r",
                synced_at=T0,
                updated_at=T0,
            )  # fmt: skip
        )

    first = refresh(T0 + timedelta(hours=1))
    second = refresh(T0 + timedelta(hours=1, minutes=1))  # the overlap re-reads both: nothing changed

    fields = {f["name"]: f["value"] for f in respond_io.contact(contact_ids[0])["custom_fields"]}
    assert fields["sf_title"] == "Buyer" and fields["sf_lastname"] == "Silva1"
    assert first["mirrored"] == {"respond_io_default": 1}
    assert second["mirrored"] == {}
    puts = respond_io.counters()["by_endpoint"].get("PUT /contact/{identifier}", {})
    assert sum(puts.values()) == 1


def test_refresh_dag_runs_in_airflow_and_updates_the_lookup_asset(sync_dag):
    import importlib
    import sys

    from sqlalchemy import func

    sync_dag.salesforce.load_contacts([person(n, T0) for n in range(3)])
    sys.modules.pop("salesforce_lookup_refresh", None)
    dag = importlib.import_module("salesforce_lookup_refresh").salesforce_lookup_refresh()

    run = dag.test(logical_date=T0 + timedelta(hours=1))

    assert run.state == "success"
    with sync_dag.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(contacts_lookup)).scalar() == 3
    task = dag.get_task("refresh")
    assert [asset.uri for asset in task.outlets] == ["contact-sync://state/contacts_lookup"]

"""SalesforceContactsHook against the running Salesforce stand-in (real HTTPS, real SQLite state DB)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.integration

T0 = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)


def sf_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def contact(n: int, created: datetime, **fields) -> dict:
    return {
        "LastName": f"Person{n}",
        "FirstName": "Test",
        "Email": f"person{n}@example.com",
        "CreatedDate": sf_time(created),
        "SystemModstamp": sf_time(created),
        "LastModifiedDate": sf_time(created),
        **fields,
    }


def calls(salesforce, needle: str) -> int:
    return sum(n for endpoint, n in salesforce.counters()["calls"].items() if needle in endpoint)


def test_window_is_half_open_at_both_boundaries(salesforce, sf_hook):
    ms = timedelta(milliseconds=1)
    times = {"before": T0 - ms, "start": T0, "middle": T0 + timedelta(minutes=30), "last": T1 - ms, "end": T1}
    ids = salesforce.load_contacts(
        [contact(i, t, LastName=name) for i, (name, t) in enumerate(times.items())]
    )
    assert len(ids) == 5

    records = list(sf_hook().stream_window(T0, T1))

    assert [r["LastName"] for r in records] == ["start", "middle", "last"]


def test_pages_through_2500_rows_sharing_one_created_date(salesforce, sf_hook):
    salesforce.load_contacts([contact(i, T0 + timedelta(minutes=5)) for i in range(2600)])
    hook = sf_hook()

    records = list(hook.stream_window(T0, T1))

    assert len(records) == 2600
    assert len({r["Id"] for r in records}) == 2600
    assert [r["Id"] for r in records] == sorted(r["Id"] for r in records)
    assert hook.last_read.pages == 2 and hook.last_read.mode == "rest"


def test_records_are_yielded_page_by_page(salesforce, sf_hook):
    salesforce.load_contacts([contact(i, T0 + timedelta(milliseconds=10 * i)) for i in range(4500)])
    hook = sf_hook()
    stream = hook.stream_window(T0, T1)

    first = [next(stream) for _ in range(10)]

    assert len(first) == 10
    assert calls(salesforce, "query") <= 3  # the COUNT(), the first page and at most one page read ahead
    assert len(list(stream)) == 4490
    assert calls(salesforce, "query") == 4


def test_overlap_catches_rows_committed_late(salesforce, sf_hook):
    salesforce.load_contacts([contact(1, T0 + timedelta(minutes=10))])
    first_run = [r["Id"] for r in sf_hook().stream_window(T0, T1)]
    # A bulk load commits after the first run, with a CreatedDate inside the window that run already read.
    late = salesforce.load_contacts([contact(2, T1 - timedelta(seconds=20))])
    next_window = (T1, T1 + timedelta(hours=1))

    without_overlap = [r["Id"] for r in sf_hook().stream_window(*next_window)]
    with_overlap = [r["Id"] for r in sf_hook().stream_window(*next_window, overlap=timedelta(minutes=1))]

    assert late[0] not in first_run
    assert without_overlap == []
    assert with_overlap == late


def test_bulk_path_returns_exactly_what_rest_returns(salesforce, sf_hook):
    from sandbox.demo_data import generate_contacts

    salesforce.load_contacts(list(generate_contacts(400, seed=7, start=T0, end=T1)))
    fields = [
        "Id",
        "FirstName",
        "LastName",
        "Email",
        "Phone",
        "MobilePhone",
        "MailingCountry",
        "MailingCountryCode",
        "CreatedDate",
        "CreatedById",
        "SystemModstamp",
        "IsDeleted",
    ]
    rest_hook, bulk_hook = sf_hook(), sf_hook()

    rest = list(rest_hook.stream_window(T0, T1, fields=fields, bulk_threshold=10**9))
    bulk = list(bulk_hook.stream_window(T0, T1, fields=fields, bulk_threshold=10))

    assert rest_hook.last_read.mode == "rest" and bulk_hook.last_read.mode == "bulk2"
    assert len(rest) == 400
    assert bulk == rest


def test_query_all_returns_soft_deleted_rows_and_deleted_ids_lists_them(salesforce, sf_hook):
    # getDeleted only looks 15 days back from now, so this test lives in the recent past.
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    end = start + timedelta(hours=1)
    ids = salesforce.load_contacts([contact(i, start + timedelta(minutes=i)) for i in range(5)])
    salesforce.delete(ids[1], ids[3], at=sf_time(start + timedelta(minutes=30)))
    hook = sf_hook(consumer="refresh")

    live = [r["Id"] for r in hook.stream_window(start, end)]
    everything = {r["Id"]: r["IsDeleted"] for r in hook.stream_window(start, end, include_deleted=True)}
    deleted = {d["id"] for d in hook.deleted_ids(start, end)}

    assert live == [ids[0], ids[2], ids[4]]
    assert everything == {i: i in (ids[1], ids[3]) for i in ids}
    assert deleted == {ids[1], ids[3]}


def test_budget_guard_stops_cleanly_between_pages(salesforce, sf_hook):
    salesforce.load_contacts([contact(i, T0 + timedelta(milliseconds=10 * i)) for i in range(5000)])
    # describe, COUNT() and two pages fit under 80 % of 10,000; the third page would not.
    salesforce.set_api_usage(used=7996, limit=10_000)
    hook = sf_hook(extra={"budget_ceiling": 0.8})
    from contact_sync.state.api_budget import SalesforceBudgetExceeded

    received = []
    with pytest.raises(SalesforceBudgetExceeded) as raised:
        for record in hook.stream_window(T0, T1):
            received.append(record)

    assert len(received) == 4000
    assert "8,000 of 10,000" in str(raised.value) and "sync" in str(raised.value)


def test_budget_guard_refuses_to_start_and_names_who_used_it(salesforce, sf_hook):
    salesforce.load_contacts([contact(1, T0)])
    salesforce.set_api_usage(used=1000, limit=10_000)
    list(sf_hook(consumer="refresh").stream_window(T0, T1))  # an earlier consumer's calls
    salesforce.set_api_usage(used=9000, limit=10_000)  # other apps spent the org's allocation since
    from contact_sync.state.api_budget import SalesforceBudgetExceeded

    with pytest.raises(SalesforceBudgetExceeded):  # the refresh sees 9,00x on its first call and stops
        list(sf_hook(consumer="refresh").stream_window(T0, T1))

    before = salesforce.counters()["api_usage"]
    with pytest.raises(SalesforceBudgetExceeded, match=r"refresh \d+") as raised:
        list(sf_hook(consumer="sync").stream_window(T0, T1))

    assert salesforce.counters()["api_usage"] == before  # not a single API call was made
    assert "at or over the 80% ceiling" in str(raised.value)


def test_consumer_share_is_enforced(salesforce, sf_hook):
    salesforce.load_contacts([contact(1, T0)])
    salesforce.set_api_usage(used=0, limit=100)
    hook = sf_hook(consumer="lookup", extra={"budget_shares": {"lookup": 0.05}})  # 0.05 * 0.8 * 100 = 4 calls
    from contact_sync.state.api_budget import SalesforceBudgetExceeded

    with pytest.raises(SalesforceBudgetExceeded, match="'lookup' has used 4 calls"):
        for _ in range(10):
            list(hook.stream_window(T0, T1))


def test_calls_are_counted_per_consumer_in_the_state_db(salesforce, sf_hook, state_db_conn):
    from sqlalchemy import select

    from contact_sync.state import make_engine
    from contact_sync.state.schema import salesforce_api_calls, salesforce_api_limit

    salesforce.load_contacts([contact(i, T0 + timedelta(seconds=i)) for i in range(10)])
    list(sf_hook(consumer="sync").stream_window(T0, T1))
    list(sf_hook(consumer="refresh").stream_window(T0, T1))

    with make_engine(state_db_conn).connect() as connection:
        by_consumer: dict[str, int] = {}
        for row in connection.execute(select(salesforce_api_calls)):
            by_consumer[row.consumer] = by_consumer.get(row.consumer, 0) + row.calls
        limit = connection.execute(select(salesforce_api_limit)).one()
    # sync: describe + COUNT() + 1 page; refresh reuses the cached describe: COUNT() + 1 page
    assert by_consumer == {"sync": 3, "refresh": 2}
    assert limit.used == salesforce.counters()["api_usage"]


def test_describe_is_cached_across_runs(salesforce, sf_hook):
    sf_hook().check_fields("Contact", ["Email"])
    sf_hook().check_fields("Contact", ["Phone"])

    assert calls(salesforce, "describe") == 1


def test_session_expiry_mid_paging_reauthenticates_once_and_loses_nothing(salesforce, sf_hook):
    salesforce.load_contacts([contact(i, T0 + timedelta(milliseconds=10 * i)) for i in range(5000)])
    hook = sf_hook()
    stream = hook.stream_window(T0, T1)
    records = [next(stream) for _ in range(2000)]

    salesforce.expire_sessions()
    records += list(stream)

    assert len(records) == 5000 and len({r["Id"] for r in records}) == 5000
    assert hook.authentications == 2


def test_transient_503_burst_is_retried(salesforce, sf_hook):
    salesforce.load_contacts([contact(i, T0 + timedelta(seconds=i)) for i in range(3)])
    hook = sf_hook()
    hook.check_fields("Contact", ["Email"])
    salesforce.set_faults(burst=2)

    assert len(list(hook.stream_window(T0, T1))) == 3


def test_unknown_field_is_reported_clearly(sf_hook):
    from hooks.salesforce import UnknownSalesforceFieldError

    with pytest.raises(UnknownSalesforceFieldError, match=r"Contact has no field\(s\) Favourite_Colour__c"):
        list(sf_hook().stream_window(T0, T1, fields=["Id", "Email", "Favourite_Colour__c"]))


def test_filter_values_cannot_change_the_query(salesforce, sf_hook):
    evil = "O'Brien \\' OR Name != ''"
    salesforce.load_contacts(
        [
            contact(1, T0, LastName=evil),
            contact(2, T0, LastName="O'Brien"),
            contact(3, T0, LastName="Smith"),
        ]
    )
    hook = sf_hook()

    assert [r["LastName"] for r in hook.stream_window(T0, T1, filters={"LastName": evil})] == [evil]
    assert [r["LastName"] for r in hook.stream_window(T0, T1, filters={"LastName": "O'Brien"})] == ["O'Brien"]
    with pytest.raises(ValueError, match="not a Salesforce field"):
        list(hook.stream_window(T0, T1, filters={"LastName = 'x' OR Id": "y"}))


def test_update_fields_reports_one_result_per_record_and_never_raises(salesforce, sf_hook):
    ids = salesforce.load_contacts([contact(i, T0) for i in range(3)])
    hook = sf_hook(consumer="writeback")

    results = hook.update_fields(
        [
            {"Id": ids[0], "Title": "CTO"},
            {"Id": ids[1], "Email": "not an email"},
            {"Id": ids[2], "Department": "Sales"},
        ]
    )

    assert [(r.id, r.success, r.error_code) for r in results] == [
        (ids[0], True, None),
        (ids[1], False, "INVALID_EMAIL_ADDRESS"),
        (ids[2], True, None),
    ]
    assert salesforce.record(ids[0])["Title"] == "CTO"
    assert salesforce.record(ids[2])["Department"] == "Sales"
    assert salesforce.record(ids[1])["Email"] == "person1@example.com"


def test_update_fields_chunks_by_200(salesforce, sf_hook):
    ids = salesforce.load_contacts([contact(i, T0) for i in range(450)])
    hook = sf_hook(consumer="writeback")

    results = hook.update_fields([{"Id": i, "Title": f"T{n}"} for n, i in enumerate(ids)])

    assert len(results) == 450 and all(r.success for r in results)
    assert calls(salesforce, "composite") == 3
    assert salesforce.record(ids[449])["Title"] == "T449"


def test_jwt_bearer_login_with_a_private_key(salesforce, sf_hook):
    hook = sf_hook(
        login=salesforce.username,
        extra={"consumer_secret": None, "private_key_file_path": str(salesforce.jwt_key_file)},
    )

    ok, message = hook.test_connection()

    assert ok, message
    assert hook.oauth_settings.flow == "jwt_bearer"


def test_wrong_secret_gives_a_clear_error_without_the_secret(sf_hook):
    ok, message = sf_hook(extra={"consumer_secret": "wrong-secret-value"}).test_connection()

    assert not ok
    assert "refused the client_credentials login" in message and "invalid_client" in message
    assert "wrong-secret-value" not in message


def test_verification_is_never_disabled(sf_hook):
    ok, message = sf_hook(extra={"ca_file": None}).test_connection()

    assert not ok and "SSL" in message


def test_get_record_reads_one_contact_and_refuses_a_non_id(salesforce, sf_hook):
    ids = salesforce.load_contacts([contact(1, T0, Title="CFO")])
    hook = sf_hook(consumer="lookup")

    record = hook.get_record(ids[0], ["Id", "Email", "Title"])

    assert (record["Id"], record["Email"], record["Title"]) == (ids[0], "person1@example.com", "CFO")
    assert hook.get_record(ids[0][:15], ["Id"])["Id"] == ids[0]
    with pytest.raises(ValueError, match="not a Salesforce record Id"):
        hook.get_record("003' OR Id != '", ["Id"])

"""Pages over real HTTP: login, redirects, session cookie, sidebar, audit and CSV (raw values only when logged in)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.inbox.conftest import JANE_ID, PASSWORD, USER, seed_contacts, set_watermark

pytestmark = pytest.mark.integration


def seed_failures_and_runs(engine) -> None:
    """Three open failures over two days (two reasons), one resolved, and two sync runs."""
    from contact_sync.state import sync_store
    from contact_sync.state.schema import matching_failures

    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)
    base = {
        "workspace": "respond_io_default",
        "run_key": "salesforce_contacts_sync/r1",
        "outcome": "rejected",
    }
    rows = [
        {**base, "sf_id": "0035g00000Fail1AAA", "reasons": ["EMAIL_NO_AT"], "raw_email": "jane.example.com",
         "raw_phone": "=HYPERLINK(\"http://x\")", "normalized_email": None, "region_assumed": "US",
         "region_source": "default", "first_seen": yesterday, "last_seen": yesterday},
        {**base, "sf_id": "0035g00000Fail2AAA", "reasons": ["PHONE_TOO_SHORT"], "raw_phone": "12 3",
         "raw_country": "Deutschland", "region_assumed": "DE", "region_source": "country",
         "first_seen": yesterday, "last_seen": today},
        {**base, "sf_id": "0035g00000Fail3AAA", "reasons": ["PHONE_TOO_SHORT", "EMAIL_NO_AT"],
         "raw_phone": "555", "raw_email": "bob at example.com", "region_assumed": "US", "region_source": "default",
         "first_seen": today, "last_seen": today},
        {**base, "sf_id": "0035g00000Fixd1AAA", "reasons": ["EMAIL_NO_AT"], "raw_email": "fixed.example.com",
         "first_seen": yesterday, "last_seen": today, "resolved_at": today},
    ]  # fmt: skip
    columns = [c.name for c in matching_failures.columns]
    with engine.begin() as connection:
        connection.execute(matching_failures.insert(), [{c: r.get(c) for c in columns} for r in rows])
    for run_id, counts in (
        ("r1", {"created": 40, "rejected": 3}),
        ("r2", {"created": 7, "held_duplicate": 1}),
    ):
        sync_store.start_run(
            engine, dag_id="salesforce_contacts_sync", run_id=run_id, workspace="respond_io_default",
            window_start=yesterday, window_end=today,
        )  # fmt: skip
        sync_store.finish_run(
            engine, dag_id="salesforce_contacts_sync", run_id=run_id, workspace="respond_io_default",
            status="success", counts=counts, details={},
        )  # fmt: skip


@pytest.fixture
def server(inbox, sqlite_engine):
    seed_contacts(sqlite_engine)
    seed_failures_and_runs(sqlite_engine)
    set_watermark(sqlite_engine, 10)
    return inbox(sqlite_engine)


@pytest.mark.parametrize(
    "path", ["/sidebar?email=jane.doe%40example.com", "/audit", "/audit/failures.csv", "/"]
)
def test_pages_redirect_to_login_without_a_session(server, path):
    with server.client() as client:
        response = client.get(path)
        assert response.status_code == 303
        location = response.headers["location"]
        if path != "/":
            assert "/login?next=" in location
            assert "jane" not in response.text.lower() and "example.com" not in response.text


def test_login_sets_a_safe_session_cookie_and_returns_to_the_page(server):
    with server.client() as client:
        response = client.post(
            "/login",
            data={"username": USER, "password": PASSWORD, "next": "/sidebar?email=jane.doe%40example.com"},
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/sidebar?email=jane.doe%40example.com"
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        page = client.get(response.headers["location"])
        assert page.status_code == 200
        assert JANE_ID in page.text and "CTO" in page.text and "View in Salesforce" in page.text


@pytest.mark.parametrize(
    ("username", "password"), [(USER, "wrong"), ("nobody", PASSWORD), ("", ""), (USER, PASSWORD + "x")]
)
def test_wrong_credentials_do_not_log_in(server, username, password):
    with server.client() as client:
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 401
        assert "set-cookie" not in response.headers
        assert client.get("/audit").status_code == 303


def test_login_does_not_redirect_off_site(server):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        with server.client() as client:
            response = client.post("/login", data={"username": USER, "password": PASSWORD, "next": target})
            assert response.headers["location"] == "/sidebar", target


def test_tampered_or_foreign_cookies_are_refused(server):
    with server.logged_in() as client:
        good = client.cookies.get("cs_inbox_session")
    for value in (good[:-2] + "xx", "eyJ1IjoiYW5hbHlzdCJ9.x.y", "garbage"):
        response = httpx.get(
            f"{server.url}/audit", cookies={"cs_inbox_session": value}, follow_redirects=False
        )
        assert response.status_code == 303, value


def test_too_many_failed_logins_are_throttled(inbox, sqlite_engine):
    server = inbox(sqlite_engine, login_attempts_per_minute=3)
    with server.client() as client:
        codes = [
            client.post("/login", data={"username": USER, "password": "nope"}).status_code for _ in range(4)
        ]
        assert codes == [401, 401, 401, 429]
        assert client.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 429


def test_logout_ends_the_session(server):
    with server.logged_in() as client:
        assert client.get("/audit").status_code == 200
        assert client.post("/logout").status_code == 303
        assert client.get("/audit").status_code == 303


def test_audit_page_shows_failures_runs_and_chart(server):
    with server.logged_in() as client:
        page = client.get("/audit").text
    assert page.count('class="failure"') == 3  # the resolved one is not open
    assert "jane.example.com" in page and "12 3" in page and "Deutschland" in page
    assert 'data-reason="EMAIL_NO_AT"' in page and 'data-reason="PHONE_TOO_SHORT"' in page
    assert 'data-reason="EMAIL_NO_AT" data-total="3"' in page  # incl. the resolved one: first seen in range
    assert page.count('class="run"') == 2
    assert 'data-outcome-total="created">47<' in page


def test_audit_filters_by_reason_status_and_dates(server):
    today = datetime.now(UTC).date()
    with server.logged_in() as client:
        page = client.get("/audit", params={"reason": "phone_too_short"}).text
        assert page.count('class="failure"') == 2
        page = client.get("/audit", params={"status": "all"}).text
        assert page.count('class="failure"') == 4
        page = client.get("/audit", params={"start": today.isoformat(), "end": today.isoformat()}).text
        assert page.count('class="failure"') == 2  # last seen today
        old = (today - timedelta(days=30)).isoformat()
        page = client.get("/audit", params={"start": old, "end": old}).text
        assert page.count('class="failure"') == 0 and "no failures in this range" in page
        for bad in ({"start": "2026-13-01"}, {"start": "x"}, {"reason": "A B"}, {"status": "x"},
                    {"start": "2020-01-01", "end": "2026-01-01"}, {"start": today.isoformat(), "end": old}):  # fmt: skip
            assert client.get("/audit", params=bad).status_code == 400, bad


def test_csv_download_has_the_raw_values_and_defuses_formulas(server):
    with server.logged_in() as client:
        response = client.get("/audit/failures.csv", params={"status": "all"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 4
    by_id = {r["sf_id"]: r for r in rows}
    assert by_id["0035g00000Fail2AAA"]["raw_phone"] == "12 3"
    assert by_id["0035g00000Fail2AAA"]["region_assumed"] == "DE"
    assert by_id["0035g00000Fail1AAA"]["raw_phone"].startswith("'=")


def test_sidebar_shows_bad_input_as_a_400_page(server):
    with server.logged_in() as client:
        response = client.get("/sidebar", params={"email": "a\x00b"})
        assert response.status_code == 400 and "control characters" in response.text
        response = client.get("/sidebar", params={"phone": "12"})
        assert response.status_code == 200 and 'data-status="invalid_input"' in response.text

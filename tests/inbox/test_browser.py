"""The pages rendered by headless Chromium: log in through the form, then read the sidebar and the audit page.

Screenshots go to ``var/test-screenshots/`` (override with ``CONTACT_SYNC_SCREENSHOTS``). Needs Debian's
``chromium`` package: ``./dev test`` installs it when missing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.inbox.chromium import Browser, chromium_path
from tests.inbox.conftest import INSTANCE_URL, JANE_ID, PASSWORD, USER, age_rows, seed_contacts, set_watermark
from tests.inbox.test_pages import seed_failures_and_runs

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PROJECT_DIR = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("CONTACT_SYNC_SCREENSHOTS") or PROJECT_DIR / "var" / "test-screenshots")


@pytest.fixture
def browser():
    executable = chromium_path()
    if executable is None:
        pytest.fail(
            "chromium is not installed: run the tests through ./dev test, or apt-get install chromium"
        )
    running = Browser(executable)
    yield running
    running.close()


@pytest.fixture
def logged_in(browser, inbox, sqlite_engine):
    seed_contacts(sqlite_engine)
    seed_failures_and_runs(sqlite_engine)
    age_rows(sqlite_engine, 600)
    set_watermark(sqlite_engine, 42)
    server = inbox(sqlite_engine)
    browser.navigate(f"{server.url}/audit")
    assert browser.wait_for("location.pathname") == "/login"  # redirected to the login page
    browser.evaluate(
        f"document.getElementById('username').value = {json.dumps(USER)};"
        f"document.getElementById('password').value = {json.dumps(PASSWORD)};"
        "document.getElementById('login-form').submit(); true"
    )
    browser.wait_for("location.pathname === '/audit' && document.readyState === 'complete'")
    return browser, server


def test_sidebar_shows_the_seeded_contact(logged_in):
    browser, server = logged_in
    browser.navigate(f"{server.url}/sidebar?phone=415%20555%200100")
    shown = browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('.contact tr[data-field]')]"
        ".map(tr => [tr.dataset.field, tr.querySelector('.value').textContent.trim()]))"
    )
    assert shown == {
        "Email": "Jane.Doe@Example.com", "Phone": "(415) 555-0100", "FirstName": "Jane", "LastName": "Doe",
        "Title": "CTO", "LeadSource": "Web", "MailingCountry": "United States",
    }  # fmt: skip
    assert browser.evaluate("document.getElementById('match-status').textContent.trim()") == "matched"
    assert browser.evaluate("document.querySelector('.sf-link').href") == (
        f"{INSTANCE_URL}/lightning/r/Contact/{JANE_ID}/view"
    )
    freshness = browser.evaluate("document.getElementById('freshness').textContent")
    assert "s old" in freshness
    assert 42 <= float(browser.evaluate("document.getElementById('freshness').dataset.age")) < 100
    path = browser.screenshot(SCREENSHOTS / "inbox-sidebar.png")
    assert path.stat().st_size > 5000


def test_audit_chart_and_table_show_the_seeded_failures(logged_in):
    browser, server = logged_in
    browser.navigate(f"{server.url}/audit?status=open")
    bars = browser.evaluate(
        "[...document.querySelectorAll('#chart rect.bar')].map(r => [r.dataset.day, r.dataset.reason, +r.dataset.count])"
    )
    by_reason: dict[str, int] = {}
    for _day, reason, count in bars:
        by_reason[reason] = by_reason.get(reason, 0) + count
    assert by_reason == {"EMAIL_NO_AT": 3, "PHONE_TOO_SHORT": 2}
    assert len({day for day, _, _ in bars}) == 2  # yesterday and today
    heights = browser.evaluate(
        "[...document.querySelectorAll('#chart rect.bar')].map(r => r.getBBox().height)"
    )
    assert all(h > 0 for h in heights)  # really drawn
    rows = browser.evaluate(
        "[...document.querySelectorAll('#failures tr.failure')].map(tr => [tr.dataset.sfId,"
        " tr.querySelector('.raw-phone').textContent.trim(), tr.querySelector('.region').textContent.trim()])"
    )
    assert sorted(rows) == [
        ["0035g00000Fail1AAA", '=HYPERLINK("http://x")', "US (default)"],
        ["0035g00000Fail2AAA", "12 3", "DE (country)"],
        ["0035g00000Fail3AAA", "555", "US (default)"],
    ]
    assert browser.evaluate("document.querySelectorAll('#runs tr.run').length") == 2
    path = browser.screenshot(SCREENSHOTS / "inbox-audit.png")
    assert path.stat().st_size > 5000

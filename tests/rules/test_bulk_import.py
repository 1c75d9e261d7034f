"""Bulk-import detection: import users, bursts, bursts straddling the window boundary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from contact_sync import BulkConfig, BulkRule, classify_batch, detect_bulk_imports
from tests.rules.conftest import sf_id, sf_time

Make = Callable[..., dict[str, Any]]
LOADER = "005LOADER00000000A"
HUMAN = "005HUMAN000000000A"


def burst(make: Make, start: int, count: int, step: float, user: str = LOADER) -> list[dict[str, Any]]:
    return [make(start + i, CreatedDate=sf_time(start + i * step), CreatedById=user) for i in range(count)]


def test_import_user_is_flagged(make_contact: Make) -> None:
    contacts = [make_contact(1, CreatedById=LOADER), make_contact(2, CreatedById=HUMAN)]

    flags = detect_bulk_imports(contacts, config=BulkConfig(import_users=frozenset({LOADER})))

    assert flags == {sf_id(1): BulkRule.IMPORT_USER}


def test_burst_of_n_within_window_is_flagged(make_contact: Make) -> None:
    contacts = burst(make_contact, 0, 50, 1.0)  # 50 contacts over 49 s

    flags = detect_bulk_imports(contacts)

    assert set(flags) == {c["Id"] for c in contacts}
    assert set(flags.values()) == {BulkRule.BURST}


def test_n_minus_one_is_not_a_burst(make_contact: Make) -> None:
    assert detect_bulk_imports(burst(make_contact, 0, 49, 1.0)) == {}


def test_same_count_spread_wider_than_window_is_not_a_burst(make_contact: Make) -> None:
    assert detect_bulk_imports(burst(make_contact, 0, 50, 1.3)) == {}  # spans 63.7 s


def test_different_users_do_not_add_up(make_contact: Make) -> None:
    contacts = burst(make_contact, 0, 30, 0.5) + burst(make_contact, 100, 30, 0.5, user=HUMAN)

    assert detect_bulk_imports(contacts) == {}


def test_only_members_of_the_burst_are_flagged(make_contact: Make) -> None:
    quiet_before = make_contact(1, CreatedDate=sf_time(-3600), CreatedById=LOADER)
    members = burst(make_contact, 10, 60, 0.5)
    quiet_after = make_contact(999, CreatedDate=sf_time(3600), CreatedById=LOADER)

    flags = detect_bulk_imports([quiet_before, *members, quiet_after])

    assert set(flags) == {c["Id"] for c in members}


def test_burst_straddling_window_boundary_found_with_lookback(make_contact: Make) -> None:
    everything = burst(make_contact, 0, 60, 0.5)  # 60 contacts over 30 s
    earlier, batch = everything[:35], everything[35:]  # the run window starts in the middle of the burst

    without = detect_bulk_imports(batch, config=BulkConfig(burst_size=50))
    with_lookback = detect_bulk_imports(batch, config=BulkConfig(burst_size=50), lookback=earlier)

    assert without == {}
    assert set(with_lookback) == {c["Id"] for c in batch}  # look-back rows themselves are not reported


def test_lookback_rows_already_in_batch_are_not_counted_twice(make_contact: Make) -> None:
    batch = burst(make_contact, 0, 30, 0.5)

    assert detect_bulk_imports(batch, config=BulkConfig(burst_size=50), lookback=batch) == {}


def test_import_user_rule_takes_precedence(make_contact: Make) -> None:
    contacts = burst(make_contact, 0, 50, 0.1)

    flags = detect_bulk_imports(contacts, config=BulkConfig(import_users=frozenset({LOADER})))

    assert set(flags.values()) == {BulkRule.IMPORT_USER}


def test_configurable_size_and_window(make_contact: Make) -> None:
    contacts = burst(make_contact, 0, 5, 2.0)  # 5 contacts over 8 s

    assert len(detect_bulk_imports(contacts, config=BulkConfig(burst_size=5, burst_window_seconds=8))) == 5
    assert detect_bulk_imports(contacts, config=BulkConfig(burst_size=5, burst_window_seconds=7)) == {}


def test_classify_batch_records_the_rule(make_contact: Make) -> None:
    contacts = [*burst(make_contact, 0, 50, 0.2), make_contact(500, CreatedById=HUMAN, Email="x@example.com")]

    classified = classify_batch(contacts)

    assert [c.bulk_rule for c in classified[:50]] == [BulkRule.BURST] * 50
    assert classified[-1].bulk_rule is None


@pytest.mark.parametrize("kwargs", [{"burst_size": 0}, {"burst_window_seconds": -1}])
def test_config_rejects_nonsense(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="burst"):
        BulkConfig(**kwargs)

"""The speed-ups change nothing: caches, the unwrapped-email shortcut and the multi-process classifier."""

from __future__ import annotations

import logging
import random
from typing import Any

import email_validator
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contact_sync import (
    assign_ownership,
    classify_batch,
    classify_many,
    emails,
    normalize_email,
    normalize_phone,
    phones,
)
from contact_sync import contacts as contacts_module
from contact_sync.bulk_import import BulkConfig, BulkRule
from contact_sync.phones import _normalize
from sandbox.demo_data import generate_contacts
from tests.rules.ownership_reference import reference_assign


@pytest.fixture(scope="module")
def demo() -> list[dict[str, Any]]:
    return list(generate_contacts(1_200, seed=7))


def test_cached_phone_normalisation_equals_uncached(
    demo: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    values = [(c.get(field), c.get("MailingCountry")) for c in demo for field in ("Phone", "MobilePhone")]
    values += values[:200]  # repeated raw values, as shared office lines
    _normalize.cache_clear()
    cached = [normalize_phone(raw, country) for raw, country in values]
    assert _normalize.cache_info().hits >= 100  # the repeats that are not blank or placeholders

    monkeypatch.setattr(phones, "_normalize", _normalize.__wrapped__)
    uncached = [normalize_phone(raw, country) for raw, country in values]

    assert cached == uncached
    assert sum(result.verdict == "valid" for result in cached) > len(values) // 2


def test_special_use_domains_follow_email_validator_list(monkeypatch: pytest.MonkeyPatch) -> None:
    assert normalize_email("jane@printer.local").verdict == "invalid"
    assert normalize_email("jane@corp.example.com").verdict == "valid"

    monkeypatch.setattr(
        email_validator,
        "SPECIAL_USE_DOMAIN_NAMES",
        [*email_validator.SPECIAL_USE_DOMAIN_NAMES, "example.com"],
    )

    assert emails._special_use("corp.example.com") and emails._special_use("example.com")
    assert not emails._special_use("notexample.com")


WRAPPED = [
    "mailto:Jane.Doe@Example.com",
    "mailto:jane@example.com?subject=hi",
    "Jane Doe <jane.doe@example.org>",
    '"Jane" <JANE@EXAMPLE.ORG> (work)',
    "<jane@example.com>",
    "'jane@example.com'",
    "[jane@example.com]",
    "jane@example.com (home)",
    "mailto:noreply@example.com",
    "Jane <jane@müller.example>",
    "mailto:jane@localhost",
    "<jane..doe@example.com>",
]


def _without_shortcut(raw: str, monkeypatch: pytest.MonkeyPatch) -> emails.EmailResult:
    """The pre-shortcut behaviour: every unwrapped address goes through email-validator."""
    with monkeypatch.context() as patch:
        patch.setattr(emails, "_fast_path", lambda text: None)
        return emails._slow_path(raw)


@pytest.mark.parametrize("raw", WRAPPED)
def test_unwrapped_shortcut_matches_email_validator_route(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert normalize_email(raw) == _without_shortcut(raw, monkeypatch)


local_part = st.from_regex(r"[A-Za-z0-9_%+-]{1,20}(\.[A-Za-z0-9_%+-]{1,10}){0,2}", fullmatch=True)
domain = st.from_regex(r"([A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?\.){1,3}[A-Za-z]{2,6}", fullmatch=True)
wrapper = st.sampled_from(
    ["mailto:{}", "Name <{}>", "<{}>", "'{}'", '"{}"', "({})", "{} (c)", "mailto:{}?x=1"]
)


@settings(max_examples=300, deadline=None)
@given(local_part, domain, wrapper)
def test_unwrapped_shortcut_property(local: str, host: str, template: str) -> None:
    raw = template.format(f"{local}@{host}")
    with pytest.MonkeyPatch.context() as patch:
        expected = _without_shortcut(raw, patch)

    assert emails._slow_path(raw) == expected


@pytest.mark.parametrize(("processes", "chunk_size"), [(1, 100), (2, 97), (3, 500), (2, 10_000)])
def test_classify_many_equals_classify_batch(
    demo: list[dict[str, Any]], processes: int, chunk_size: int
) -> None:
    expected = classify_batch(demo)

    result = classify_many(demo, processes=processes, chunk_size=chunk_size)

    assert result == expected
    assert [c.sf_id for c in result] == [c["Id"] for c in demo]


def test_classify_many_adds_bulk_flags_in_the_parent(demo: list[dict[str, Any]]) -> None:
    """Workers classify without flags; the parent adds them, also for contacts whose ``Id`` is blank."""
    importer = demo[0]["CreatedById"]
    blank_ids = [{**demo[i], "Id": blank} for i, blank in enumerate([None, "", None])]
    batch = [*demo, *blank_ids]
    config = BulkConfig(import_users=frozenset({importer}), burst_size=5, burst_window_seconds=3600)
    expected = classify_batch(batch, bulk=config)
    assert {c.bulk_rule for c in expected} >= {BulkRule.IMPORT_USER, BulkRule.BURST, None}
    assert [c.sf_id for c in expected[-3:]] == ["", "", ""]

    result = classify_many(batch, bulk=config, processes=2, chunk_size=97)

    assert result == expected
    assert [c.bulk_rule for c in result] == [c.bulk_rule for c in expected]


def test_wire_rows_round_trip(demo: list[dict[str, Any]]) -> None:
    """The flat rows a worker sends rebuild into the very named tuples ``classify`` returns."""
    expected = classify_batch(demo[:300])
    contacts_module._FORK_INPUT = (demo, "US", {}, 300)
    try:
        rows = contacts_module._encode_chunk(0)
    finally:
        contacts_module._FORK_INPUT = None
    assert all(type(value) is not tuple or not hasattr(value, "_fields") for row in rows for value in row)

    rebuilt = contacts_module._decode_chunk(0, rows, demo, {}, 300)

    assert rebuilt == expected
    assert [type(c.email) for c in rebuilt] == [type(c.email) for c in expected]
    assert [(type(c.phone), type(c.mobile)) for c in rebuilt] == [
        (type(c.phone), type(c.mobile)) for c in expected
    ]


def _lazy_worker(counter: Any, chunks: int, conn: Any) -> None:
    """A worker that claims one chunk and dies without returning it."""
    contacts_module._take(counter, chunks)
    conn.close()


def test_classify_many_recovers_chunks_a_worker_lost(
    demo: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(contacts_module, "_worker", _lazy_worker)

    with caplog.at_level(logging.WARNING, logger="contact_sync.contacts"):
        result = classify_many(demo, processes=2, chunk_size=100)

    assert result == classify_batch(demo)
    assert "not returned by a worker" in caplog.text


@pytest.mark.parametrize("sync_bulk_imports", [False, True])
def test_tuned_ownership_equals_reference(demo: list[dict[str, Any]], sync_bulk_imports: bool) -> None:
    """Same decisions, same new owners and shared keys (dict order included) as the plain version."""
    config = BulkConfig(burst_size=5, burst_window_seconds=3600)
    classified = classify_batch([*demo, *demo[:50]], bulk=config)  # repeated Ids too
    rng = random.Random(3)
    first = assign_ownership(classified, {})
    keys = list(first.new_owners)
    recorded = {
        key: first.new_owners[key] if rng.random() < 0.5 else f"003Xx{rng.randrange(10**13):013d}"
        for key in keys[::5]
    }
    assert first.shared_keys and any(first.new_owners[key] != value for key, value in recorded.items())

    for existing in ({}, recorded):
        expected = reference_assign(list(classified), existing, sync_bulk_imports)
        result = assign_ownership(classified, existing, sync_bulk_imports=sync_bulk_imports)
        assert result.decisions == expected.decisions
        assert list(result.new_owners.items()) == list(expected.new_owners.items())
        assert list(result.shared_keys.items()) == list(expected.shared_keys.items())

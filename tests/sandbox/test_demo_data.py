"""Tests of the deterministic demo-data generator (sandbox.demo_data)."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import phonenumbers as pn
import pytest

from sandbox import demo_data
from sandbox.demo_data import (
    CONTACT_FIELDS,
    IMPORT_USER_ID,
    USER_IDS,
    RowInfo,
    generate_contacts,
    generate_respond_io_existing,
    id18,
    iter_annotated,
    salesforce_id,
    write_jsonl,
)
from sandbox.demo_phone_stems import STEMS

ROOT = Path(__file__).resolve().parents[2]
SF_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000$")
INVISIBLE = "\u00a0\u200b\u200e\ufeff"


def _parse_sf(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


@pytest.fixture(scope="module")
def rows5k() -> list[tuple[dict[str, Any], RowInfo]]:
    return list(iter_annotated(5000, seed=42))


@pytest.fixture(scope="module", params=[1, 2, 3])
def rows500(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return list(generate_contacts(500, seed=request.param))


# -- ids -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("id15", "expected"),
    [
        ("0031U00001WaiGo", "0031U00001WaiGoQAJ"),  # chunk bits: U@4 -> 16 'Q'; none 'A'; W@0+G@3 -> 9 'J'
        ("001D000000IRFma", "001D000000IRFmaIAH"),  # Salesforce REST docs example account id
        ("001A0000006Vm9r", "001A0000006Vm9rIAC"),
        ("003xx000004TmiQ", "003xx000004TmiQAAS"),  # the id used in the Salesforce API docs
        ("000000000000000", "000000000000000AAA"),
        ("ZZZZZZZZZZZZZZZ", "ZZZZZZZZZZZZZZZ555"),
    ],
)
def test_id18_known_examples(id15: str, expected: str) -> None:
    assert id18(id15) == expected
    assert id18(expected) == expected  # an 18-char id with the right suffix passes through


def test_id18_makes_case_variants_distinct_and_rejects_garbage() -> None:
    upper, lower = id18("003AB00000CdEfG"), id18("003ab00000cdefg")
    assert upper.lower() != lower.lower()
    with pytest.raises(ValueError):
        id18("003AB00000CdEfGAAA")  # wrong checksum
    with pytest.raises(ValueError):
        id18("003AB")
    with pytest.raises(ValueError):
        id18("003AB00000CdEf-")


def test_salesforce_id_shape_and_order() -> None:
    ids = [salesforce_id("003", n) for n in (0, 1, 61, 62, 3843, 10_000_000, 62**9 - 1)]
    assert all(re.fullmatch(r"003Dm0[0-9A-Za-z]{12}", i) for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(id18(i[:15]) == i for i in ids)
    assert salesforce_id("005", 7, pod="Xy").startswith("005Xy0")
    assert IMPORT_USER_ID.startswith("005") and IMPORT_USER_ID not in USER_IDS
    with pytest.raises(ValueError):
        salesforce_id("003", 62**9)


# -- shape, order, determinism -------------------------------------------------------------------------------
def test_records_have_exactly_the_contact_fields(rows5k: list[tuple[dict[str, Any], RowInfo]]) -> None:
    for record, _ in rows5k:
        assert tuple(record) == CONTACT_FIELDS
        assert record["IsDeleted"] is False and record["MasterRecordId"] is None
        assert record["LastName"]
        assert re.fullmatch(r"003[0-9A-Za-z]{15}", record["Id"]) and id18(record["Id"][:15]) == record["Id"]
        for field in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
            assert SF_TIME.match(record[field]), record[field]
        assert record["OwnerId"] in USER_IDS
        json.dumps(record)


def test_order_window_and_audit_dates(rows5k: list[tuple[dict[str, Any], RowInfo]]) -> None:
    keys = [(r["CreatedDate"], r["Id"]) for r, _ in rows5k]
    assert all(a < b for a, b in itertools.pairwise(keys)), "not strictly ordered by (CreatedDate, Id)"
    start, end = demo_data.DEFAULT_START, demo_data.DEFAULT_END
    for record, _ in rows5k:
        created = _parse_sf(record["CreatedDate"])
        modified = _parse_sf(record["LastModifiedDate"])
        stamp = _parse_sf(record["SystemModstamp"])
        assert start <= created <= modified <= stamp < end
    created_days = {r["CreatedDate"][:10] for r, _ in rows5k}
    assert len(created_days) == 7  # spread over the whole week
    same_second = sum(1 for a, b in itertools.pairwise(keys) if a[0] == b[0])
    assert same_second > 0.05 * len(keys)


def test_same_seed_same_output_different_seed_different_output() -> None:
    first = list(generate_contacts(800, seed=7))
    again = list(generate_contacts(800, seed=7))
    other = list(generate_contacts(800, seed=8))
    assert first == again
    assert first != other
    assert [r["Email"] for r in first] != [r["Email"] for r in other]
    assert [r["CreatedDate"] for r in first] != [r["CreatedDate"] for r in other]
    # a prefix of a longer run is not required to match, but n rows are n rows in order
    assert len(first) == 800


def test_output_does_not_depend_on_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    before = list(generate_contacts(300, seed=3))
    monkeypatch.setattr(time, "time", lambda: 4_000_000_000.0)
    monkeypatch.setattr(time, "time_ns", lambda: 4_000_000_000 * 10**9)
    after = list(generate_contacts(300, seed=3))
    assert before == after
    source = "".join(p.read_text() for p in (ROOT / "sandbox").glob("demo_*.py"))
    assert not re.search(r"\.now\(|\.today\(|utcnow|time\.time\(", source)


def test_window_arguments_and_validation() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    end = start + timedelta(hours=1)
    rows = list(generate_contacts(600, seed=1, start=start, end=end))
    assert all(start <= _parse_sf(r["CreatedDate"]) < end for r in rows)
    only_start = list(generate_contacts(50, seed=1, start=start))
    assert all(start <= _parse_sf(r["CreatedDate"]) < start + timedelta(days=7) for r in only_start)
    assert list(generate_contacts(0)) == []
    assert len(list(generate_contacts(1))) == 1
    with pytest.raises(ValueError):
        list(generate_contacts(10, start=datetime(2025, 1, 1)))  # naive
    with pytest.raises(ValueError):
        list(generate_contacts(10, start=end, end=start))
    with pytest.raises(ValueError):
        list(generate_contacts(-1))


# -- bursts and users ----------------------------------------------------------------------------------------
def test_bulk_import_bursts(rows5k: list[tuple[dict[str, Any], RowInfo]]) -> None:
    by_burst: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for record, info in rows5k:
        by_burst[info.burst].append(record)
        assert (record["CreatedById"] == IMPORT_USER_ID) == (info.burst >= 0)
    regular = by_burst.pop(-1)
    assert by_burst, "no bursts"
    bulk = sum(len(v) for v in by_burst.values())
    assert bulk == round(5000 * 0.1)
    for records in by_burst.values():
        assert len(records) >= 200
        seconds = [_parse_sf(r["CreatedDate"]) for r in records]
        assert max(seconds) - min(seconds) <= timedelta(seconds=15)
        assert len({r["LeadSource"] for r in records}) == 1
    assert {r["CreatedById"] for r in regular} <= set(USER_IDS)
    assert len({r["CreatedById"] for r in regular}) >= 4


def test_bursts_follow_parameters() -> None:
    custom = salesforce_id("005", 123_456)
    rows = list(generate_contacts(2000, seed=4, import_user_id=custom, bulk_share=0.5))
    assert sum(r["CreatedById"] == custom for r in rows) == 1000
    assert IMPORT_USER_ID not in {r["CreatedById"] for r in rows}
    none = list(generate_contacts(2000, seed=4, bulk_share=0.0))
    assert IMPORT_USER_ID not in {r["CreatedById"] for r in none}
    small = list(generate_contacts(500, seed=4))  # a burst smaller than 200 when n is small
    assert sum(r["CreatedById"] == IMPORT_USER_ID for r in small) == 50


# -- messy values --------------------------------------------------------------------------------------------
PLACEHOLDER_VALUES = {"n/a", "none", "-", "noemail@", "noemail@example.com", "no@email.com", "unknown"}
PLACEHOLDER_VALUES |= {"na@na.com", "x", "test@test.com", ".", "no email", "noemail"}


def _email_categories(value: str | None) -> set[str]:
    if value is None:
        return {"none"}
    found: set[str] = set()
    stripped = value.strip(" ")
    if stripped == "":
        return {"blank"}
    if re.fullmatch(r"[a-z0-9._-]+@[a-z0-9.-]+\.[a-z]{2,}", value) and ".." not in value:
        found.add("clean")
    if (
        re.fullmatch(r"[^\s@<>:]+@[^\s@<>]+", value)
        and re.search("[a-z]", value)
        and re.search("[A-Z]", value)
    ):
        found.add("mixed_case")
    if value != stripped or re.search(r"\S @|@ \S", value):
        found.add("spaces")
    if value.lower().startswith("mailto:"):
        found.add("mailto")
    if re.fullmatch(r"[^<>]*[^\s<>\"'][\"']?\s*<[^<>@]+@[^<>]+>", value):
        found.add("display_name")
    if re.fullmatch(r"([\"'])[^\"']+@[^\"']+\1|<[^<>\s]+@[^<>\s]+>", value):
        found.add("quoted")
    if "@" in value and value[-1] in ".,":
        found.add("trailing_dot")
    if ".." in value:
        found.add("double_dot")
    if "@" not in value and "." in value and len(value) > 8 and value.lower() not in ("noemail",):
        found.add("missing_at")
    if value.count("@") >= 2:
        found.add("two_addresses")
    if value.strip().lower() in PLACEHOLDER_VALUES:
        found.add("placeholder")
    if "@" in value and any(ch.isalpha() and not ch.isascii() for ch in value.rsplit("@", 1)[1]):
        found.add("idn")
    if re.search(r"\+[^@]*@", value):
        found.add("plus")
    if any(ch in value for ch in INVISIBLE):
        found.add("invisible")
    return found


EMAIL_CATEGORIES = {
    "none",
    "blank",
    "clean",
    "mixed_case",
    "spaces",
    "mailto",
    "display_name",
    "quoted",
    "trailing_dot",
    "double_dot",
    "missing_at",
    "two_addresses",
    "placeholder",
    "idn",
    "plus",
    "invisible",
}


def test_every_email_category_present_at_500(rows500: list[dict[str, Any]]) -> None:
    found = Counter(cat for r in rows500 for cat in _email_categories(r["Email"]))
    assert EMAIL_CATEGORIES <= set(found), EMAIL_CATEGORIES - set(found)
    assert found["clean"] > 0.5 * len(rows500)


def _phone_categories(value: str | None) -> set[str]:
    if value is None:
        return {"none"}
    if value.strip() == "":
        return {"blank"}
    found: set[str] = set()
    digits = "".join(ch for ch in value if ch.isascii() and ch.isdigit())
    if "(0)" in value:
        found.add("trunk")
    if re.match(r"00\d|00 \d", value):
        found.add("00")
    if value.startswith("011 "):
        found.add("011")
    if re.search(r"(?i)(\bx|ext\.?|ext:|#|;ext=)\s*\d+$", value):
        found.add("extension")
    if re.search(r"\d.*[A-Z]{3,}", value):
        found.add("vanity")
    if any("\u0660" <= ch <= "\u0669" or "\u06f0" <= ch <= "\u06f9" for ch in value):
        found.add("arabic_indic")
    if any("\uff10" <= ch <= "\uff19" for ch in value):
        found.add("fullwidth")
    if digits and len(digits) <= 4 and not re.search(r"[A-Za-z]", value):
        found.add("too_short")
    if re.search(r"[0-9]{18,}", re.sub(r"[ .()-]", "", value)) and not re.search(r"[/,;&]| or ", value):
        found.add("too_long")
    if not digits and re.search(r"[A-Za-z]", value):
        found.add("text")
    parts = re.split(r" / |, | or |; | & ", value)
    if len(parts) == 2 and all(sum(ch.isdigit() for ch in part) >= 6 for part in parts):
        found.add("two_numbers")
    if "+" not in value and value[0] in "123456789" and re.match(r"[0-9]{1,3}[ -]", value):
        try:
            number = pn.parse("+" + value, None)
            if pn.format_number(number, pn.PhoneNumberFormat.INTERNATIONAL) == "+" + value:
                found.add("no_plus")
        except pn.NumberParseException:
            pass
    if any(ch in value for ch in INVISIBLE):
        found.add("invisible")
    if re.fullmatch(r"\+\d{8,15}", value):
        found.add("e164")
    if re.fullmatch(r"[\d() -]+", value) and "-" in value:
        found.add("dashes")
    if re.fullmatch(r"[\d.]+", value) and "." in value:
        found.add("dots")
    if "(" in value and "(0)" not in value:
        found.add("parentheses")
    if re.fullmatch(r"\+\d[\d ]+", value) and " " in value:
        found.add("spaces")
    return found


PHONE_CATEGORIES = {
    "none",
    "blank",
    "trunk",
    "00",
    "011",
    "extension",
    "vanity",
    "arabic_indic",
    "fullwidth",
    "too_short",
    "too_long",
    "text",
    "two_numbers",
    "invisible",
    "e164",
    "dashes",
    "dots",
    "no_plus",
    "parentheses",
    "spaces",
}


def test_every_phone_category_present_at_500(rows500: list[dict[str, Any]]) -> None:
    found = Counter(cat for r in rows500 for cat in _phone_categories(r["Phone"]))
    assert PHONE_CATEGORIES <= set(found), PHONE_CATEGORIES - set(found)
    mobile = Counter(cat for r in rows500 for cat in _phone_categories(r["MobilePhone"]))
    assert mobile["none"] > 0.25 * len(rows500)
    assert mobile["e164"] > 0


def test_mailing_country_spellings(rows500: list[dict[str, Any]]) -> None:
    values = [r["MailingCountry"] for r in rows500]
    names = {c.name for c in demo_data.COUNTRIES}
    upper_names = {n.upper() for n in names}
    iso2 = {c.iso2 for c in demo_data.COUNTRIES}
    iso3 = {c.iso3 for c in demo_data.COUNTRIES}
    # spellings that only the "variant" category produces (``US``/``USA`` are also ISO codes)
    variants = {v for c in demo_data.COUNTRIES for v in c.variants} - iso2 - iso3 - names - upper_names
    assert any(v in names for v in values)
    assert any(v in iso2 - {"US"} for v in values)
    assert any(v in iso3 - {"USA"} for v in values)
    assert any(v and v.upper() in iso2 and v.islower() for v in values)
    assert any(v in variants for v in values)
    assert any(v and v.islower() and len(v) > 3 and v.upper() in upper_names for v in values)
    assert any(v and v.isupper() and len(v) > 3 and v in upper_names for v in values)
    assert any(v is None for v in values) and any(v == "" for v in values)
    codes = [r["MailingCountryCode"] for r in rows500]
    assert 0.15 < sum(c is not None for c in codes) / len(codes) < 0.6
    assert {c for c in codes if c} <= iso2


def test_mailing_country_local_names(rows5k: list[tuple[dict[str, Any], RowInfo]]) -> None:
    values = {r["MailingCountry"] for r, _ in rows5k}
    assert {"United Kingdom", "UK", "Deutschland", "España", "GB", "DEU", "united kingdom"} <= values


SCRIPTS = {
    "LATIN": "latin",
    "CYRILLIC": "cyrillic",
    "GREEK": "greek",
    "ARABIC": "arabic",
    "HEBREW": "hebrew",
    "DEVANAGARI": "devanagari",
    "CJK": "cjk",
    "HIRAGANA": "cjk",
    "THAI": "thai",
    "HANGUL": "hangul",
}


def _scripts(text: str) -> set[str]:
    out = set()
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            for prefix, script in SCRIPTS.items():
                if name.startswith(prefix):
                    out.add(script)
    return out


def test_names_in_many_scripts(rows500: list[dict[str, Any]]) -> None:
    scripts = set().union(*(_scripts(f"{r['FirstName'] or ''} {r['LastName']}") for r in rows500))
    assert set(SCRIPTS.values()) <= scripts, set(SCRIPTS.values()) - scripts
    assert any(re.search(r"[À-ž]", r["LastName"]) for r in rows500)  # Latin with diacritics
    assert 0 < sum(r["FirstName"] is None for r in rows500) < 0.1 * len(rows500)


# -- phone validity ------------------------------------------------------------------------------------------
def test_frozen_stems_are_valid_with_installed_phonenumbers() -> None:
    assert len(STEMS) >= 15
    for region, kinds in STEMS.items():
        for kind, stems in kinds.items():
            assert len(stems) >= 10, (region, kind)
            for stem, _, _ in stems:
                number = pn.parse(stem + "0000", region)
                assert pn.is_valid_number_for_region(number, region), (region, kind, stem)


def test_clean_phones_are_valid_per_country(rows5k: list[tuple[dict[str, Any], RowInfo]]) -> None:
    total: Counter[str] = Counter()
    valid: Counter[str] = Counter()
    for record, info in rows5k:
        for value, kind, region in (
            (record["Phone"], info.phone_kind, info.phone_region),
            (record["MobilePhone"], info.mobile_kind, info.mobile_region),
        ):
            if kind != "clean":
                continue
            assert region is not None
            total[region] += 1
            number = pn.parse(value, region)
            if pn.is_valid_number(number) and pn.region_code_for_number(number) == region:
                valid[region] += 1
    assert len(total) >= 15
    for region, count in total.items():
        assert valid[region] / count >= 0.95, (region, valid[region], count)


def test_mobile_phones_are_mobile_numbers(rows5k: list[tuple[dict[str, Any], RowInfo]]) -> None:
    mobile_types = {pn.PhoneNumberType.MOBILE, pn.PhoneNumberType.FIXED_LINE_OR_MOBILE}
    checked = 0
    for record, info in rows5k:
        if info.mobile_kind == "clean":
            number = pn.parse(record["MobilePhone"], info.mobile_region)
            assert pn.number_type(number) in mobile_types, record["MobilePhone"]
            checked += 1
    assert checked > 1000


def _is_valid_anywhere(value: str, region: str | None) -> bool:
    for guess in {region, "US", "GB", None}:
        try:
            if pn.is_valid_number(pn.parse(value, guess)):
                return True
        except pn.NumberParseException:
            continue
    return False


def test_junk_phones_are_invalid(rows5k: list[tuple[dict[str, Any], RowInfo]]) -> None:
    seen: Counter[str] = Counter()
    for record, info in rows5k:
        for value, kind, region in (
            (record["Phone"], info.phone_kind, info.phone_region),
            (record["MobilePhone"], info.mobile_kind, info.mobile_region),
        ):
            if kind in demo_data.JUNK_PHONE_KINDS:
                seen[kind] += 1
                assert not _is_valid_anywhere(value, region or info.country), (kind, value)
    assert set(seen) == demo_data.JUNK_PHONE_KINDS


def test_messy_but_recoverable_phones_mostly_parse(rows5k: list[tuple[dict[str, Any], RowInfo]]) -> None:
    """Trunk, 00/011, extensions and Unicode digits are messy yet valid for libphonenumber."""
    ok: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for record, info in rows5k:
        if info.phone_kind in ("trunk", "ext", "unicode", "vanity"):
            total[info.phone_kind] += 1
            ok[info.phone_kind] += _is_valid_anywhere(record["Phone"], info.phone_region)
    for kind, count in total.items():
        assert ok[kind] / count >= 0.9, (kind, ok[kind], count)


# -- shared keys ---------------------------------------------------------------------------------------------
def _e164(value: str | None, region: str | None) -> str | None:
    if not value:
        return None
    try:
        number = pn.parse(value, region)
    except pn.NumberParseException:
        return None
    return pn.format_number(number, pn.PhoneNumberFormat.E164) if pn.is_valid_number(number) else None


def test_shared_emails_and_phones_between_different_people(
    rows5k: list[tuple[dict[str, Any], RowInfo]],
) -> None:
    shared = Counter(info.shared for _, info in rows5k if info.shared)
    assert set(shared) == {"phone", "email", "both"}
    assert 0.015 * 5000 < sum(shared.values()) < 0.05 * 5000

    people_by_email: dict[str, set[tuple[Any, Any]]] = defaultdict(set)
    people_by_phone: dict[str, set[tuple[Any, Any]]] = defaultdict(set)
    raw_by_phone: dict[str, set[str]] = defaultdict(set)
    for record, info in rows5k:
        person = (record["FirstName"], record["LastName"].strip().lower())
        if info.email_kind in ("clean", "shared") and record["Email"]:
            people_by_email[record["Email"].lower()].add(person)
        if info.phone_kind in ("clean", "shared"):
            key = _e164(record["Phone"], info.phone_region)
            assert key is not None
            people_by_phone[key].add(person)
            raw_by_phone[key].add(record["Phone"])
    assert sum(len(p) > 1 for p in people_by_email.values()) >= 20
    families = [k for k, p in people_by_phone.items() if len(p) > 1]
    assert len(families) >= 20
    assert any(len(raw_by_phone[k]) > 1 for k in families)  # same number typed differently
    # a family shares the surname
    assert any(len({last for _, last in people_by_phone[k]}) == 1 for k in families)


def test_unshared_clean_keys_are_unique(rows5k: list[tuple[dict[str, Any], RowInfo]]) -> None:
    """Different people only share a key when the generator says so (no accidental collisions)."""
    emails: Counter[str] = Counter()
    phones: Counter[str] = Counter()
    shared_emails: set[str] = set()
    shared_phones: set[str] = set()
    for record, info in rows5k:
        if info.email_kind == "clean":
            emails[record["Email"]] += 1
        elif info.email_kind == "shared" and record["Email"]:
            shared_emails.add(record["Email"].lower())
        for value, kind, region in (
            (record["Phone"], info.phone_kind, info.phone_region),
            (record["MobilePhone"], info.mobile_kind, info.mobile_region),
        ):
            key = _e164(value, region)
            if kind == "clean" and key:
                phones[key] += 1
            elif kind == "shared" and key:
                shared_phones.add(key)
    assert [e for e, c in emails.items() if c > 1 and e not in shared_emails] == []
    assert [p for p, c in phones.items() if c > 1 and p not in shared_phones] == []


# -- respond.io seed contacts --------------------------------------------------------------------------------
def test_respond_io_existing_contacts_match_their_people() -> None:
    contacts = list(generate_contacts(3000, seed=9))
    existing = generate_respond_io_existing(contacts, share=0.1, seed=9)
    assert existing == generate_respond_io_existing(contacts, share=0.1, seed=9)
    assert existing != generate_respond_io_existing(contacts, share=0.1, seed=10)
    assert 150 < len(existing) < 350
    phones = [c["phone"] for c in existing if c["phone"]]
    emails = [c["email"] for c in existing if c["email"]]
    assert len(phones) == len(set(phones)) and len(emails) == len(set(emails))
    assert phones and emails and any(c["phone"] and c["email"] for c in existing)

    sf_emails: dict[str, list[dict[str, Any]]] = defaultdict(list)
    sf_phones: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for contact in contacts:
        region = contact["MailingCountryCode"] or demo_data._region_hint(contact)
        if contact["Email"]:
            sf_emails[contact["Email"].lower()].append(contact)
        for field in ("Phone", "MobilePhone"):
            raw = contact[field] or ""
            key = _e164("".join(" " if ch in INVISIBLE else ch for ch in raw), region)
            if key:
                sf_phones[key].append(contact)
    for item in existing:
        assert set(item) == {
            "firstName",
            "lastName",
            "email",
            "phone",
            "countryCode",
            "tags",
            "custom_fields",
        }
        assert item["firstName"] and item["tags"] and item["custom_fields"] == []
        if item["phone"]:
            assert re.fullmatch(r"\+[1-9]\d{6,14}", item["phone"])
            number = pn.parse(item["phone"], None)
            assert pn.is_valid_number(number)
            assert item["countryCode"] == pn.region_code_for_number(number)
            assert "WhatsApp" in item["tags"] or item["tags"][0] in ("Viber", "Telegram", "SMS")
        matches = list(sf_phones.get(item["phone"] or "", []))
        if item["email"]:
            # respond.io holds the clean address; the Salesforce one may be messy around it (mailto:, <...>)
            matches += [c for e, cs in sf_emails.items() if item["email"] in e for c in cs]
        assert matches, item
        names = {n.strip() for c in matches for n in (c["FirstName"] or "", c["LastName"])}
        assert item["firstName"] in names


# -- files and CLI -------------------------------------------------------------------------------------------
def test_write_jsonl_and_cli_are_identical_across_processes(tmp_path: Path) -> None:
    in_process = tmp_path / "in.jsonl"
    assert write_jsonl(in_process, generate_contacts(600, seed=5)) == 600
    out = tmp_path / "cli.jsonl"
    env = {**os.environ, "TZ": "Asia/Kolkata", "PYTHONHASHSEED": "123"}
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.demo_data", "--count", "600", "--seed", "5", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 1 and "600" in result.stdout
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(in_process.read_bytes()).digest()
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 600
    assert json.loads(lines[0]) == next(generate_contacts(600, seed=5))

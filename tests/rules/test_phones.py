"""Table-driven tests for :func:`contact_sync.normalize_phone` across many countries and notations."""

from __future__ import annotations

import pytest

from contact_sync import PhoneResult, Reason, normalize_phone

# (raw, MailingCountry, expected key, expected region, expected region source, expected extension)
VALID = [
    # United States / Canada (NANP)
    ("(415) 555-2671", "US", "+14155552671", "US", "country", None),
    ("415.555.2671", "United States", "+14155552671", "US", "country", None),
    ("415 555 2671", None, "+14155552671", "US", "default", None),
    ("+1 416 555 0134", None, "+14165550134", "CA", "number", None),
    ("416-555-0134", "Canada", "+14165550134", "CA", "country", None),
    ("1-800-FLOWERS", "US", "+18003569377", "US", "country", None),  # vanity letters
    ("1 800 GOT JUNK", None, "+18004685865", "US", "default", None),
    ("(415) 555-2671 ext. 204", "US", "+14155552671", "US", "country", "204"),
    ("+1 415 555 2671 #9", None, "+14155552671", "US", "number", "9"),
    ("415-555-2671 x 12", "USA", "+14155552671", "US", "country", "12"),
    ("011 44 20 7946 0958", "US", "+442079460958", "GB", "international_prefix", None),  # US exit code
    ("2025550123", None, "+12025550123", "US", "default", None),
    # United Kingdom
    ("020 7946 0958", "United Kingdom", "+442079460958", "GB", "country", None),
    ("020 7946 0958", "UK", "+442079460958", "GB", "country", None),
    ("07911 123456", "GBR", "+447911123456", "GB", "country", None),
    ("+44 (0)20 7946 0958", None, "+442079460958", "GB", "number", None),  # (0) trunk notation
    ("+44 20 7946 0958 x12", None, "+442079460958", "GB", "number", "12"),
    # Germany
    ("030 12345678", "Deutschland", "+493012345678", "DE", "country", None),
    ("+49 (0)30 12345678", None, "+493012345678", "DE", "number", None),
    ("0049 30 12345678", "US", "+493012345678", "DE", "international_prefix", None),  # 00 in a US CRM
    ("0049 30 12345678", "Germany", "+493012345678", "DE", "country", None),
    ("0151 23456789", "DEU", "+4915123456789", "DE", "country", None),
    # France
    ("01 42 68 53 00", "France", "+33142685300", "FR", "country", None),
    ("06 12 34 56 78", "FR", "+33612345678", "FR", "country", None),
    ("+33 (0)6 12 34 56 78", None, "+33612345678", "FR", "number", None),
    # Italy (leading zero is part of the number)
    ("06 6982 1234", "Italia", "+390669821234", "IT", "country", None),
    ("347 1234567", "Italy", "+393471234567", "IT", "country", None),
    # Spain, Netherlands, Switzerland, Austria, Poland, Sweden, Denmark
    ("91 123 45 67", "España", "+34911234567", "ES", "country", None),
    ("06 12345678", "The Netherlands", "+31612345678", "NL", "country", None),
    ("\u00a0+41 44 668 18 00\u200b", None, "+41446681800", "CH", "number", None),
    ("044 668 18 00", "Schweiz", "+41446681800", "CH", "country", None),
    ("0664 1234567", "Österreich", "+436641234567", "AT", "country", None),
    ("512 345 678", "Polska", "+48512345678", "PL", "country", None),
    ("08-123 456 78", "Sverige", "+46812345678", "SE", "country", None),
    ("21 23 45 67", "Danmark", "+4521234567", "DK", "country", None),
    # Japan, South Korea, China
    ("03-1234-5678", "Japan", "+81312345678", "JP", "country", None),
    ("090-1234-5678", "日本", "+819012345678", "JP", "country", None),
    ("０９０－１２３４－５６７８", "JP", "+819012345678", "JP", "country", None),  # full-width digits
    ("010-1234-5678", "South Korea", "+821012345678", "KR", "country", None),
    ("138 1234 5678", "China", "+8613812345678", "CN", "country", None),
    # Australia, India, Brazil, Mexico
    ("(02) 9876 5432", "Australia", "+61298765432", "AU", "country", None),
    ("0412 345 678", "AUS", "+61412345678", "AU", "country", None),
    ("98765 43210", "India", "+919876543210", "IN", "country", None),
    ("०९८७६५४३२१०", "India", "+919876543210", "IN", "country", None),  # Devanagari digits
    ("(11) 91234-5678", "Brasil", "+5511912345678", "BR", "country", None),
    ("55 1234 5678", "México", "+525512345678", "MX", "country", None),
    ("+52 1 55 1234 5678", None, "+525512345678", "MX", "number", None),  # pre-2019 mobile "1"
    # Malaysia, Singapore, Philippines, Egypt, UAE, South Africa, Nigeria, Russia, Bangladesh
    ("012-345 6789", "Malaysia", "+60123456789", "MY", "country", None),
    ("+60 12-123 3112", None, "+60121233112", "MY", "number", None),
    ("8123 4567", "Singapore", "+6581234567", "SG", "country", None),
    ("+63 917 123 4567", None, "+639171234567", "PH", "number", None),
    ("٠١٠٠١٢٣٤٥٦٧", "Egypt", "+201001234567", "EG", "country", None),  # Arabic-Indic digits
    ("050 123 4567", "UAE", "+971501234567", "AE", "country", None),
    ("082 123 4567", "South Africa", "+27821234567", "ZA", "country", None),
    ("0803 123 4567", "Nigeria", "+2348031234567", "NG", "country", None),
    ("8 (912) 345-67-89", "Russia", "+79123456789", "RU", "country", None),
    ("0171 2345678", "Bangladesh", "+8801712345678", "BD", "country", None),
    # integers exported from spreadsheets
    (4155552671, "US", "+14155552671", "US", "country", None),
]


@pytest.mark.parametrize(
    ("raw", "country", "key", "region", "source", "extension"), VALID, ids=[f"{v[0]!r}-{v[1]}" for v in VALID]
)
def test_valid_numbers_become_e164(
    raw: object, country: str | None, key: str, region: str, source: str, extension: str | None
) -> None:
    result = normalize_phone(raw, country)

    assert result == PhoneResult(key, "valid", None, region, source, extension)  # type: ignore[arg-type]
    assert result.identifier == "phone:" + key


def test_countries_covered() -> None:
    regions = {row[3] for row in VALID}

    assert len(regions) >= 15


INVALID = [
    ("12 3", None, Reason.PHONE_TOO_SHORT),
    ("123", None, Reason.PHONE_TOO_SHORT),
    ("555-0123", "US", Reason.PHONE_TOO_SHORT),  # local-only, no area code
    ("+1", None, Reason.PHONE_NOT_A_NUMBER),
    ("+44 12", None, Reason.PHONE_TOO_SHORT),
    ("+1 202 555 01234567890", None, Reason.PHONE_TOO_LONG),
    ("020 7946 0958", None, Reason.PHONE_TOO_LONG),  # UK number read as US
    ("+999 1234567", None, Reason.PHONE_INVALID_COUNTRY_CODE),
    ("(200) 555-0123", "US", Reason.PHONE_INVALID_FOR_REGION),  # area codes never start with 2-0-0
    ("call me", None, Reason.PHONE_NOT_A_NUMBER),
    ("ask reception", None, Reason.PHONE_NOT_A_NUMBER),
    ("n/a", None, Reason.PHONE_PLACEHOLDER),
    ("TBD", None, Reason.PHONE_PLACEHOLDER),
    ("-", None, Reason.PHONE_PLACEHOLDER),
    ("0000000000", None, Reason.PHONE_PLACEHOLDER),
    ("999-999-9999", None, Reason.PHONE_PLACEHOLDER),
]


@pytest.mark.parametrize(("raw", "country", "reason"), INVALID, ids=[f"{v[0]!r}-{v[1]}" for v in INVALID])
def test_invalid_numbers_carry_reason(raw: str, country: str | None, reason: Reason) -> None:
    result = normalize_phone(raw, country)

    assert result.verdict == "invalid"
    assert result.key is None
    assert result.reason == reason


def test_same_digits_in_different_layout_meet_on_one_key() -> None:
    layouts = [
        "+1 (415) 555-2671",
        "4155552671",
        "415.555.2671",
        "1-415-555-2671",
        "+14155552671",
        "(415)5552671",
    ]

    assert {normalize_phone(raw).key for raw in layouts} == {"+14155552671"}


def test_explicit_country_code_wins_over_region() -> None:
    result = normalize_phone("+44 20 7946 0958", "Germany")

    assert result.key == "+442079460958"
    assert (result.region, result.region_source) == ("GB", "number")


def test_unknown_country_falls_back_to_default_region() -> None:
    result = normalize_phone("020 7946 0958", "Atlantis", default_region="GB")

    assert (result.key, result.region, result.region_source) == ("+442079460958", "GB", "default")


def test_no_default_region_needs_country_code() -> None:
    assert normalize_phone("415 555 2671", None, default_region=None).reason == Reason.PHONE_NO_REGION
    assert normalize_phone("+1 415 555 2671", None, default_region=None).key == "+14155552671"


@pytest.mark.parametrize("raw", [None, "", "  ", "\u00a0", "\u200b\u200e", float("nan")])
def test_blank_is_missing(raw: object) -> None:
    assert normalize_phone(raw) == PhoneResult(None, "missing")

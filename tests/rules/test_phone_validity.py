"""The fast validity check in :mod:`contact_sync.phone_validity` gives exactly the ``phonenumbers`` answers."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata, PhoneNumber

from contact_sync.phone_validity import is_valid_for_region, region_for_number

_DESCS = (
    "general_desc",
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)
_COUNTRY_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
_OTHER_REGIONS = (None, "US", "CA", "GB", "JE", "IT", "RU", "KZ", "001", "ZZ")


def _metadata() -> list[PhoneMetadata]:
    found = [PhoneMetadata.metadata_for_region(region) for region in sorted(phonenumbers.SUPPORTED_REGIONS)]
    found += [
        PhoneMetadata.metadata_for_nongeo_region(code)
        for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)
    ]
    return [metadata for metadata in found if metadata is not None]


def _numbers() -> list[PhoneNumber]:
    """Every example number of every region and type, plus variants one digit shorter, longer and altered."""
    numbers: list[PhoneNumber] = []
    for metadata in _metadata():
        for name in _DESCS:
            desc = getattr(metadata, name)
            example = desc.example_number if desc is not None else None
            if not example:
                continue
            for digits in {example, example[:-1], example + "7", "9" + example[1:], example[:-2] + "00"}:
                if digits and len(digits) <= 17:
                    number = PhoneNumber(country_code=metadata.country_code, national_number=int(digits))
                    if digits.startswith("0"):
                        number.italian_leading_zero = True
                        number.number_of_leading_zeros = len(digits) - len(digits.lstrip("0"))
                    numbers.append(number)
    return numbers


def _assert_same(number: PhoneNumber) -> None:
    nsn = phonenumbers.national_significant_number(number)
    region = region_for_number(number, nsn)

    assert region == phonenumbers.region_code_for_number(number)
    assert is_valid_for_region(number, nsn, region) == phonenumbers.is_valid_number(number)
    for other in (region, *_OTHER_REGIONS):
        assert is_valid_for_region(number, nsn, other) == phonenumbers.is_valid_number_for_region(
            number, other
        )


def test_every_example_number_and_its_variants_agree_with_phonenumbers() -> None:
    numbers = _numbers()

    assert len(numbers) > 5_000
    valid = 0
    for number in numbers:
        _assert_same(number)
        valid += phonenumbers.is_valid_number(number)
    assert 0 < valid < len(numbers)  # both outcomes exercised


@settings(max_examples=1_500, deadline=None)
@given(st.sampled_from(_COUNTRY_CODES + [0, 999]), st.from_regex(r"[0-9]{1,17}", fullmatch=True))
def test_random_numbers_agree_with_phonenumbers(country_code: int, digits: str) -> None:
    number = PhoneNumber(country_code=country_code, national_number=int(digits))
    if digits.startswith("0") and len(digits) > 1:
        number.italian_leading_zero = True
        number.number_of_leading_zeros = len(digits) - len(digits.lstrip("0"))

    _assert_same(number)


@pytest.mark.parametrize(
    "text",
    [
        "+1 416 555 0134",
        "+1 268 464 1234",
        "+44 1534 456789",
        "+7 701 123 4567",
        "+39 06 1234 5678",
        "+800 1234 5678",
    ],
)
def test_shared_country_codes_pick_the_same_region(text: str) -> None:
    number = phonenumbers.parse(text)

    _assert_same(number)

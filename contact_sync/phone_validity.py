"""Exact, faster equivalents of ``phonenumbers.region_code_for_number`` and ``is_valid_number_for_region``.

``is_valid_number`` asks ``_number_type_helper`` for the number *type*, one description after the other
(premium rate, toll free, …, fixed line, mobile), each through a Python call, a length check and a
``re.compile`` cache lookup; for a country code shared by several regions (``+1``, ``+44``, ``+7``) it does it
twice (once to find the region, once to validate). Validity only needs "general description matches and *some*
type description matches", so for each metadata object and national-number length we build two compiled
regexes once: the general pattern and the alternation of every type pattern whose possible lengths admit that
length. Same rules, same metadata, two ``fullmatch`` calls. ``tests/rules/test_phone_validity.py`` checks the
equivalence against ``phonenumbers`` on every region's example numbers and on random digit strings.

Only public ``phonenumbers`` names are used.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from phonenumbers import PhoneMetadata, PhoneNumber

__all__ = ["is_valid_for_region", "is_valid_nsn", "region_for_number"]

#: Descriptions ``_number_type_helper`` tries after the general one (any match → a known type → valid).
_TYPE_DESCS = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)

_Matchers = tuple["PhoneMetadata", "re.Pattern[str] | None", "re.Pattern[str] | None"]
#: ``(id(metadata), length) → (metadata, general, types)``; the metadata is kept so its id cannot be reused.
_MATCHERS: dict[tuple[int, int], _Matchers] = {}
_LEADING: dict[str, re.Pattern[str]] = {}


def _pattern_for_length(desc: object, length: int) -> str | None:
    """The description's pattern when a number of ``length`` digits may match it (``_is_number_matching_desc``)."""
    if desc is None:
        return None
    possible = desc.possible_length  # type: ignore[attr-defined]
    if len(possible) > 0 and length not in possible:
        return None
    pattern: str | None = desc.national_number_pattern  # type: ignore[attr-defined]
    return pattern or None


def _build(metadata: PhoneMetadata, length: int) -> _Matchers:
    general = _pattern_for_length(metadata.general_desc, length)
    if general is None:
        return (metadata, None, None)
    # With identical fixed-line and mobile patterns the library never tries the mobile description.
    names = _TYPE_DESCS[:-1] if metadata.same_mobile_and_fixed_line_pattern else _TYPE_DESCS
    parts = [
        part for part in (_pattern_for_length(getattr(metadata, name), length) for name in names) if part
    ]
    types = re.compile("|".join("(?:" + part + ")" for part in parts)) if parts else None
    return (metadata, re.compile(general), types)


def is_valid_nsn(nsn: str, metadata: PhoneMetadata) -> bool:
    """``_number_type_helper(nsn, metadata) != PhoneNumberType.UNKNOWN``, with two precompiled regexes.

    :param nsn: national significant number (digits).
    :param metadata: the region's (or non-geographic entity's) metadata.
    :return: whether the number has a known type there.
    """
    key = (id(metadata), len(nsn))
    matchers = _MATCHERS.get(key)
    if matchers is None:
        matchers = _MATCHERS[key] = _build(metadata, len(nsn))
    _, general, types = matchers
    return (
        general is not None
        and types is not None
        and general.fullmatch(nsn) is not None
        and types.fullmatch(nsn) is not None
    )


def region_for_number(number: PhoneNumber, nsn: str) -> str | None:
    """Same result as ``phonenumbers.region_code_for_number(number)``.

    :param number: a parsed number.
    :param nsn: ``phonenumbers.national_significant_number(number)``.
    :return: the region code, ``"001"`` for a non-geographic entity, or ``None``.
    """
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

    regions = COUNTRY_CODE_TO_REGION_CODE.get(number.country_code)
    if regions is None:
        return None
    if len(regions) == 1:
        return regions[0]
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            leading = _LEADING.get(metadata.leading_digits)
            if leading is None:
                leading = _LEADING[metadata.leading_digits] = re.compile(metadata.leading_digits)
            if leading.match(nsn):
                return region
        elif is_valid_nsn(nsn, metadata):
            return region
    return None


def is_valid_for_region(number: PhoneNumber, nsn: str, region: str | None) -> bool:
    """Same result as ``phonenumbers.is_valid_number_for_region(number, region)``.

    ``is_valid_for_region(n, nsn, region_for_number(n, nsn))`` is ``phonenumbers.is_valid_number(n)``.

    :param number: a parsed number.
    :param nsn: ``phonenumbers.national_significant_number(number)``.
    :param region: region code (``None`` → ``False``).
    :return: whether the number is valid for that region.
    """
    from phonenumbers import REGION_CODE_FOR_NON_GEO_ENTITY, PhoneMetadata, country_code_for_valid_region

    if region is None:
        return False
    country_code = number.country_code
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region.upper())
    if metadata is None or (
        region != REGION_CODE_FOR_NON_GEO_ENTITY and country_code != country_code_for_valid_region(region)
    ):
        return False
    return is_valid_nsn(nsn, metadata)

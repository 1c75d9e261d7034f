"""Phone normalisation to E.164 with libphonenumber (``phonenumbers``).

The region used to read a number without ``+`` comes from the contact's country (see
:mod:`contact_sync.countries`), else the configured default. An explicit ``+CC`` always wins. Numbers written
with an international prefix the assumed region does not use (``0049…`` in a US-defaulted CRM) and the
``+44 (0)20…`` trunk notation are retried once in their international reading. The region that was assumed and
why is kept on the result, so an analyst can see why ``+1`` was chosen.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import TYPE_CHECKING, Literal, NamedTuple

from contact_sync.countries import resolve_region, supported_regions
from contact_sync.phone_validity import is_valid_for_region, region_for_number
from contact_sync.reasons import Reason, Verdict
from contact_sync.text import PLACEHOLDERS, clean_text, collapse_spaces

if TYPE_CHECKING:
    from phonenumbers import PhoneNumber

__all__ = ["E164_PATTERN", "PhoneResult", "RegionSource", "normalize_phone"]

#: What every phone key matches (also used by the validation suite).
E164_PATTERN = r"^\+[1-9]\d{6,14}$"
_E164 = re.compile(E164_PATTERN)

#: Where the region came from: the number's own ``+CC``, the contact's country, the configured default, or an
#: international prefix (``00``/``011``) read as ``+``.
RegionSource = Literal["number", "country", "default", "international_prefix"]

_PLACEHOLDERS = PLACEHOLDERS | {"no phone", "nophone", "no-phone", "phone"}
_MX_CODE = 52
_NON_DIGITS = re.compile(r"[^0-9]+")
_TRUNK_ZERO = re.compile(r"\(\s*0\s*\)")
_INTL_PREFIX = re.compile(r"^[\s(\[.-]*(?:00|011)(?=[\s).-]*[1-9])")


class PhoneResult(NamedTuple):
    """Outcome of :func:`normalize_phone` (an immutable named tuple: cheap to build and to pickle).

    :param key: E.164 (``+4930123456``) without extension, or ``None`` unless ``verdict == "valid"``.
    :param verdict: ``"valid"``, ``"invalid"`` or ``"missing"``.
    :param reason: ``None`` when valid or missing, else the reason code.
    :param region: for a ``+CC`` number the region it belongs to, otherwise the region assumed to read it.
    :param region_source: why that region (see :data:`RegionSource`).
    :param extension: the extension written after the number (``x12``, ``ext. 12``, ``#12``), kept apart.
    """

    key: str | None
    verdict: Verdict
    reason: Reason | None = None
    region: str | None = None
    region_source: RegionSource | None = None
    extension: str | None = None

    @property
    def identifier(self) -> str | None:
        """The respond.io identifier ``phone:<E.164>``, or ``None``."""
        return None if self.key is None else "phone:" + self.key


_MISSING = PhoneResult(None, "missing")


def _reason_for_number(number: PhoneNumber) -> Reason:
    import phonenumbers

    why = phonenumbers.is_possible_number_with_reason(number)
    result = phonenumbers.ValidationResult
    if why in (result.TOO_SHORT, result.IS_POSSIBLE_LOCAL_ONLY):
        return Reason.PHONE_TOO_SHORT
    if why == result.TOO_LONG:
        return Reason.PHONE_TOO_LONG
    if why == result.INVALID_COUNTRY_CODE:
        return Reason.PHONE_INVALID_COUNTRY_CODE
    return Reason.PHONE_INVALID_FOR_REGION


def _reason_for_error(error_type: int, has_region: bool) -> Reason:
    from phonenumbers import NumberParseException as Npe

    if error_type == Npe.INVALID_COUNTRY_CODE:
        return Reason.PHONE_INVALID_COUNTRY_CODE if has_region else Reason.PHONE_NO_REGION
    if error_type in (Npe.TOO_SHORT_NSN, Npe.TOO_SHORT_AFTER_IDD):
        return Reason.PHONE_TOO_SHORT
    if error_type == Npe.TOO_LONG:
        return Reason.PHONE_TOO_LONG
    return Reason.PHONE_NOT_A_NUMBER


@functools.cache
def _use_pattern_cache() -> None:
    """Let ``phonenumbers`` keep its compiled metadata regexes (instead of a ``re`` cache lookup per use).

    Same patterns, same results; the ``re`` module's own cache is bounded and shared with everything else.
    """
    import phonenumbers

    enable = getattr(phonenumbers, "enable_pattern_cache", None)
    if enable is not None:
        enable()


def _parse(text: str, region: str | None) -> tuple[PhoneNumber | None, Reason | None, str | None]:
    """Parse and validate; returns the number, the reason it is invalid (``None`` when valid) and its region.

    ``is_valid_number`` is ``region_code_for_number`` + ``is_valid_number_for_region``; doing the two steps
    here keeps the number's region without computing it twice. Both come from
    :mod:`contact_sync.phone_validity` (same results as ``phonenumbers``, a fraction of the cost).
    """
    import phonenumbers

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        return None, _reason_for_error(exc.error_type, region is not None), None
    nsn = phonenumbers.national_significant_number(number)
    number_region = region_for_number(number, nsn)
    if not is_valid_for_region(number, nsn, number_region):
        return number, _reason_for_number(number), number_region
    return number, None, number_region


def _valid(
    number: PhoneNumber, number_region: str | None, region: str | None, source: RegionSource
) -> PhoneResult:
    import phonenumbers

    key = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if _E164.match(key) is None:
        reason = Reason.PHONE_TOO_LONG if len(key) > 16 else Reason.PHONE_TOO_SHORT
        return PhoneResult(None, "invalid", reason, region, source, number.extension or None)
    if source not in ("number", "international_prefix") and (
        region is None or number.country_code != phonenumbers.country_code_for_region(region)
    ):
        source = "international_prefix"  # e.g. "011 49 …" dialled from the assumed region
    if source in ("number", "international_prefix"):
        region = number_region or region
    return PhoneResult(key, "valid", None, region, source, number.extension or None)


@functools.lru_cache(maxsize=16384)
def _normalize(text: str, region: str | None, source: RegionSource) -> PhoneResult:
    import phonenumbers
    from phonenumbers import PhoneNumber

    explicit = text.lstrip("([ ").startswith("+")
    if explicit:
        source = "number"
    number, reason, number_region = _parse(text, region)
    if reason is None and number is not None:
        return _valid(number, number_region, region, source)
    # Rescue 1: "+44 (0)20 …" style trunk notation.
    if _TRUNK_ZERO.search(text) is not None:
        rescued, rescued_reason, rescued_region = _parse(_TRUNK_ZERO.sub(" ", text), region)
        if rescued_reason is None and rescued is not None:
            return _valid(rescued, rescued_region, region, source)
    # Rescue 2: an international prefix the assumed region does not dial ("0049…" read in the US).
    if not explicit:
        match = _INTL_PREFIX.match(text)
        if match is not None:
            rescued, rescued_reason, rescued_region = _parse("+" + text[match.end() :], region)
            if rescued_reason is None and rescued is not None:
                return _valid(rescued, rescued_region, region, "international_prefix")
    # Rescue 3: Mexican mobiles still written with the "1" dropped from the numbering plan in 2019.
    if number is not None and number.country_code == _MX_CODE and str(number.national_number)[:1] == "1":
        mexican = PhoneNumber(country_code=_MX_CODE, national_number=int(str(number.national_number)[1:]))
        if phonenumbers.is_valid_number(mexican):
            mexican.extension = number.extension
            return _valid(mexican, phonenumbers.region_code_for_number(mexican), region, source)
    extension = number.extension if number is not None else None
    if source == "number":  # the region is the number's own, not the one we would have assumed
        region = (
            phonenumbers.region_code_for_country_code(number.country_code) if number is not None else None
        )
        region = None if region == phonenumbers.UNKNOWN_REGION else region
    return PhoneResult(None, "invalid", reason, region, source, extension or None)


def _ascii_digits(text: str) -> str:
    """Fold full-width forms (NFKC) and any Unicode decimal digit (Arabic-Indic, Devanagari…) to ASCII."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text)


def _is_placeholder(text: str) -> bool:
    if len(text) <= 16 and collapse_spaces(text).casefold() in _PLACEHOLDERS:
        return True
    digits = _NON_DIGITS.sub("", text)
    return len(digits) >= 6 and digits == digits[0] * len(digits) and not text.startswith("+")


def normalize_phone(raw: object, country: object = None, default_region: str | None = "US") -> PhoneResult:
    """Normalise one phone value to E.164.

    Blank → ``missing``; a value that is not a callable number → ``invalid`` with a reason code
    (``PHONE_TOO_SHORT``, ``PHONE_TOO_LONG``, ``PHONE_INVALID_FOR_REGION``, ``PHONE_NOT_A_NUMBER``, …).
    A number must pass ``phonenumbers.is_valid_number``. Never raises.

    :param raw: ``Phone`` / ``MobilePhone`` as stored in Salesforce (free text, any type).
    :param country: ``MailingCountry`` as stored (name, alpha-2 or alpha-3) or a region the caller knows;
        when blank or unknown the default region is used.
    :param default_region: region assumed when ``country`` does not give one; ``None`` means numbers must
        carry ``+CC``.
    :return: an immutable :class:`PhoneResult`.
    """
    text = clean_text(raw)
    if not text:
        return _MISSING
    if not text.isascii():
        text = _ascii_digits(text)
    region = resolve_region(country) if country is not None else None
    source: RegionSource = "country"
    if region is None:
        default = default_region.upper() if isinstance(default_region, str) else None
        region = default if default in supported_regions() else None
        source = "default"
    if _is_placeholder(text):
        return PhoneResult(None, "invalid", Reason.PHONE_PLACEHOLDER, region, source)
    _use_pattern_cache()
    try:
        return _normalize(text, region, source)
    except Exception:  # noqa: BLE001 - the normaliser must never raise on data; unknown failures are invalid
        return PhoneResult(None, "invalid", Reason.PHONE_NOT_A_NUMBER, region, source)

"""Reason codes: the one place where every rejection, warning and hold code is defined.

Every code is a :class:`Reason` (a ``StrEnum``, so it compares equal to its plain string and serialises as
one). ``contact_sync/README.md`` documents each code with examples for analysts; a test keeps the two in
step.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class Reason(StrEnum):
    """Why a value or a contact was rejected, held, skipped or only partly synced."""

    # Email
    EMAIL_PLACEHOLDER = "EMAIL_PLACEHOLDER"
    EMAIL_NO_AT = "EMAIL_NO_AT"
    EMAIL_MULTIPLE = "EMAIL_MULTIPLE"
    EMAIL_EMPTY_LOCAL = "EMAIL_EMPTY_LOCAL"
    EMAIL_LOCAL_TOO_LONG = "EMAIL_LOCAL_TOO_LONG"
    EMAIL_BAD_DOTS = "EMAIL_BAD_DOTS"
    EMAIL_BAD_CHARACTERS = "EMAIL_BAD_CHARACTERS"
    EMAIL_BAD_DOMAIN = "EMAIL_BAD_DOMAIN"
    EMAIL_TOO_LONG = "EMAIL_TOO_LONG"
    EMAIL_INVALID = "EMAIL_INVALID"
    # Phone
    PHONE_PLACEHOLDER = "PHONE_PLACEHOLDER"
    PHONE_NOT_A_NUMBER = "PHONE_NOT_A_NUMBER"
    PHONE_TOO_SHORT = "PHONE_TOO_SHORT"
    PHONE_TOO_LONG = "PHONE_TOO_LONG"
    PHONE_INVALID_COUNTRY_CODE = "PHONE_INVALID_COUNTRY_CODE"
    PHONE_NO_REGION = "PHONE_NO_REGION"
    PHONE_INVALID_FOR_REGION = "PHONE_INVALID_FOR_REGION"
    # Country
    COUNTRY_UNRECOGNISED = "COUNTRY_UNRECOGNISED"
    # Contact level
    NO_VALID_IDENTIFIER = "NO_VALID_IDENTIFIER"
    DUPLICATE_EMAIL = "DUPLICATE_EMAIL"
    DUPLICATE_PHONE = "DUPLICATE_PHONE"
    SECONDARY_EMAIL_SHARED = "SECONDARY_EMAIL_SHARED"
    SECONDARY_PHONE_SHARED = "SECONDARY_PHONE_SHARED"
    DUPLICATE_SF_ID = "DUPLICATE_SF_ID"
    BULK_IMPORT = "BULK_IMPORT"


#: Codes that stop a contact from being written to respond.io (the others are warnings).
BLOCKING: frozenset[Reason] = frozenset(
    {
        Reason.NO_VALID_IDENTIFIER,
        Reason.DUPLICATE_EMAIL,
        Reason.DUPLICATE_PHONE,
        Reason.DUPLICATE_SF_ID,
        Reason.BULK_IMPORT,
    }
)


#: Verdict of one normalised value (and of a classified contact).
Verdict = Literal["valid", "invalid", "missing"]

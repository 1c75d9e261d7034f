"""contact-sync domain core: normalise emails and phones, classify contacts, assign key ownership.

No Airflow import anywhere in this package, and nothing heavy at import: ``phonenumbers`` and
``email_validator`` load on first use, pandas and Great Expectations only inside
:mod:`contact_sync.validation` (re-exported lazily below).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contact_sync.bulk_import import BulkConfig, BulkRule, detect_bulk_imports
from contact_sync.contacts import ClassifiedContact, classify, classify_batch, classify_many
from contact_sync.countries import resolve_region
from contact_sync.emails import EmailResult, normalize_email
from contact_sync.ownership import Decision, OwnershipResult, assign_ownership
from contact_sync.phones import E164_PATTERN, PhoneResult, normalize_phone
from contact_sync.reasons import BLOCKING, Reason

if TYPE_CHECKING:
    from contact_sync.validation import (
        SuiteFailure,
        ValidationSummary,
        build_suite,
        frame_for_validation,
        validate_written,
    )

__all__ = [
    "BLOCKING",
    "E164_PATTERN",
    "BulkConfig",
    "BulkRule",
    "ClassifiedContact",
    "Decision",
    "EmailResult",
    "OwnershipResult",
    "PhoneResult",
    "Reason",
    "SuiteFailure",
    "ValidationSummary",
    "assign_ownership",
    "build_suite",
    "classify",
    "classify_batch",
    "classify_many",
    "detect_bulk_imports",
    "frame_for_validation",
    "normalize_email",
    "normalize_phone",
    "resolve_region",
    "validate_written",
]

_LAZY = {"SuiteFailure", "ValidationSummary", "build_suite", "frame_for_validation", "validate_written"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from contact_sync import validation

        return getattr(validation, name)
    raise AttributeError(f"module 'contact_sync' has no attribute {name!r}")

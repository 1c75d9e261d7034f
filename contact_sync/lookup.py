"""Rows of the lookup table the inbox reads: one per Salesforce contact, keyed by normalised email and phone."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from contact_sync.contacts import classify

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: Salesforce fields the lookup needs besides the display fields.
KEY_FIELDS = ("Id", "Email", "Phone", "MobilePhone", "MailingCountry", "MailingCountryCode", "SystemModstamp")


def parse_salesforce_datetime(value: str | None) -> datetime | None:
    """``2026-10-01T12:00:00.000+0000`` (REST) or ``...Z`` (Bulk) -> aware datetime."""
    if not value:
        return None
    return datetime.strptime(value.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")


def lookup_row(
    record: Mapping[str, Any], *, display_fields: Sequence[str], default_region: str | None = "US"
) -> dict[str, Any]:
    """The lookup row for a Salesforce record: keys by the same rules as the sync, display fields as stored.

    Email and Phone are always part of ``fields`` (read-only in the inbox).
    """
    contact = record
    if "Country" in record and "MailingCountry" not in record:  # a Lead
        contact = {
            **record,
            "MailingCountry": record.get("Country"),
            "MailingCountryCode": record.get("CountryCode"),
        }
    classified = classify(contact, default_region=default_region)
    shown = {"Email": record.get("Email"), "Phone": record.get("Phone") or record.get("MobilePhone")}
    shown.update({name: record.get(name) for name in display_fields if name in record})
    return {
        "sf_id": classified.sf_id,
        "email_key": classified.email.key,
        "phone_key": classified.phone_key,
        "first_name": record.get("FirstName"),
        "last_name": record.get("LastName"),
        "fields": shown,
        "system_modstamp": parse_salesforce_datetime(record.get("SystemModstamp")),
    }

"""Contact-level classification: identifier choice, both keys, every reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from contact_sync import BulkRule, Reason, classify

Make = Callable[..., dict[str, Any]]


def test_valid_email_is_the_identifier_and_phone_key_is_kept(make_contact: Make) -> None:
    contact = classify(make_contact(1, Email=" Jane@Example.com ", Phone="(415) 555-2671"))

    assert contact.identifier == "email:jane@example.com"
    assert contact.identifier_kind == "email"
    assert (contact.email_key, contact.phone_key) == ("jane@example.com", "+14155552671")
    assert contact.verdict == "valid"
    assert contact.reasons == ()
    assert contact.created_date == datetime(2026, 10, 1, 12, 0, 1, tzinfo=UTC)


def test_invalid_email_syncs_by_phone_and_keeps_the_email_warning(make_contact: Make) -> None:
    contact = classify(make_contact(1, Email="jane(at)example.com", Phone="+44 20 7946 0958"))

    assert contact.identifier == "phone:+442079460958"
    assert contact.verdict == "valid"
    assert contact.reasons == (Reason.EMAIL_NO_AT,)
    assert contact.field_reasons == (("Email", Reason.EMAIL_NO_AT),)


def test_phone_key_comes_from_first_valid_of_phone_then_mobile(make_contact: Make) -> None:
    contact = classify(
        make_contact(1, Phone="12 3", MobilePhone="07911 123456", MailingCountry="United Kingdom")
    )

    assert contact.phone_field == "MobilePhone"
    assert contact.identifier == "phone:+447911123456"
    assert contact.phone_result is not None and contact.phone_result.region == "GB"
    assert contact.field_reasons == (("Phone", Reason.PHONE_TOO_SHORT),)


def test_phone_wins_over_mobile_when_both_valid(make_contact: Make) -> None:
    contact = classify(make_contact(1, Phone="415 555 2671", MobilePhone="415 555 0000"))

    assert (contact.phone_field, contact.phone_key) == ("Phone", "+14155552671")


def test_country_code_field_is_preferred_and_names_are_understood(make_contact: Make) -> None:
    by_code = classify(
        make_contact(1, Phone="030 12345678", MailingCountryCode="DE", MailingCountry="Germany")
    )
    by_local_name = classify(make_contact(2, Phone="030 12345678", MailingCountry="Deutschland"))

    assert by_code.phone_key == by_local_name.phone_key == "+493012345678"
    assert by_code.country_region == by_local_name.country_region == "DE"


def test_unrecognised_country_is_a_warning_and_default_region_applies(make_contact: Make) -> None:
    contact = classify(make_contact(1, Phone="415 555 2671", MailingCountry="Atlantis"))

    assert contact.phone_key == "+14155552671"
    assert contact.phone_result is not None and contact.phone_result.region_source == "default"
    assert contact.reasons == (Reason.COUNTRY_UNRECOGNISED,)


def test_default_region_is_configurable(make_contact: Make) -> None:
    contact = classify(make_contact(1, Phone="020 7946 0958"), default_region="GB")

    assert contact.phone_key == "+442079460958"


def test_nothing_usable_gives_no_identifier_with_every_reason(make_contact: Make) -> None:
    contact = classify(make_contact(1, Email="n/a", Phone="12 3", MobilePhone="call me"))

    assert contact.identifier is None
    assert contact.verdict == "invalid"
    assert contact.reasons == (
        Reason.EMAIL_PLACEHOLDER,
        Reason.PHONE_TOO_SHORT,
        Reason.PHONE_NOT_A_NUMBER,
        Reason.NO_VALID_IDENTIFIER,
    )


def test_all_blank_is_missing(make_contact: Make) -> None:
    contact = classify(make_contact(1, Email="  ", Phone="\u00a0"))

    assert contact.verdict == "missing"
    assert contact.reasons == (Reason.NO_VALID_IDENTIFIER,)


@pytest.mark.parametrize(
    "created",
    [
        "2026-10-01T12:00:00.000+0000",
        "2026-10-01T12:00:00.000Z",
        datetime(2026, 10, 1, 12, 0),
        datetime(2026, 10, 1, 14, 0, tzinfo=UTC).astimezone(),
    ],
)
def test_created_date_forms(make_contact: Make, created: object) -> None:
    contact = classify(make_contact(1, Email="a@example.com", CreatedDate=created))

    assert contact.created_date is not None and contact.created_date.tzinfo is not None


def test_import_user_flag_without_batch(make_contact: Make) -> None:
    contact = classify(
        make_contact(1, Email="a@example.com", CreatedById="005IMPORT00000000A"),
        import_users={"005IMPORT00000000A"},
    )

    assert contact.bulk and contact.bulk_rule == BulkRule.IMPORT_USER

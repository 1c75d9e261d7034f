"""The pure edit rules against describe metadata (no services)."""

from __future__ import annotations

import pytest

from contact_sync.writeback_rules import EditRefused, EditRules, as_text, check_value, to_salesforce

DESCRIBE = {
    "fields": [
        {"name": "Title", "type": "string", "length": 10, "updateable": True, "nillable": True},
        {"name": "LastName", "type": "string", "length": 80, "updateable": True, "nillable": False},
        {"name": "Email", "type": "email", "length": 80, "updateable": True},
        {"name": "Phone", "type": "phone", "length": 40, "updateable": True},
        {"name": "CreatedDate", "type": "datetime", "updateable": False},
        {
            "name": "LeadSource",
            "type": "picklist",
            "length": 255,
            "updateable": True,
            "picklistValues": [{"value": "Web", "active": True}, {"value": "Old", "active": False}],
        },
        {"name": "Score__c", "type": "double", "updateable": True},
        {"name": "Vip__c", "type": "boolean", "updateable": True},
        {"name": "Birthdate", "type": "date", "updateable": True},
        {"name": "sf_contact_id__c", "type": "string", "length": 18, "updateable": True},
    ]
}
EDITABLE = ("Title", "LastName", "Email", "Phone", "CreatedDate", "LeadSource", "Score__c", "Vip__c", "Birthdate",
            "sf_contact_id__c", "Missing__c")  # fmt: skip
RULES = EditRules.from_describe(EDITABLE, DESCRIBE, extra_keys=["sf_contact_id__c"])


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("Email", "a@b.c", "field_never_editable"),
        ("Phone", "+1 415", "field_never_editable"),
        ("MobilePhone", "+1 415", "field_never_editable"),
        ("MailingCountry", "US", "field_is_matching_key"),
        ("sf_contact_id__c", "x", "field_is_matching_key"),
        ("Department", "Sales", "field_not_editable"),
        ("Missing__c", "x", "field_unknown"),
        ("CreatedDate", "2026-01-01", "field_not_updateable"),
        ("Title", "x" * 11, "value_too_long"),
        ("LeadSource", "Fax", "value_not_in_picklist"),
        ("LeadSource", "Old", "value_not_in_picklist"),
        ("LastName", "  ", "value_required"),
        ("Score__c", "abc", "value_invalid"),
        ("Score__c", "nan", "value_invalid"),
        ("Vip__c", "yes", "value_invalid"),
        ("Birthdate", "31/12/2000", "value_invalid"),
        ("Title", "a\x00b", "value_invalid"),
    ],
)
def test_refused_edits_name_the_rule(field, value, code):
    with pytest.raises(EditRefused) as caught:
        RULES.check(field, value)
    assert caught.value.code == code
    assert field in str(caught.value) or code.startswith("value")


def test_accepted_values_are_normalised():
    assert RULES.check("Title", "  CEO ") == "CEO"
    assert RULES.check("Title", "") is None
    assert RULES.check("LeadSource", "Web") == "Web"
    assert RULES.check("Vip__c", "TRUE") == "true"
    assert RULES.check("Birthdate", "2000-12-31") == "2000-12-31"
    assert to_salesforce(DESCRIBE["fields"][6], "1.5") == 1.5
    assert to_salesforce(DESCRIBE["fields"][7], "true") is True
    assert check_value({"name": "X", "type": "int"}, "7") == "7"


def test_editable_fields_lists_only_what_passes():
    assert RULES.editable_fields() == ("Title", "LastName", "LeadSource", "Score__c", "Vip__c", "Birthdate")


def test_as_text_treats_empty_as_none():
    assert as_text("") is None
    assert as_text(None) is None
    assert as_text(False) == "false"
    assert as_text(3) == "3"

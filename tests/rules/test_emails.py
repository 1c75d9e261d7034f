"""Table-driven tests for :func:`contact_sync.normalize_email` with values real CRMs hold."""

from __future__ import annotations

import pytest

from contact_sync import EmailResult, Reason, normalize_email

VALID = [
    ("jane.doe@example.com", "jane.doe@example.com"),
    ("  Jane.Doe@Example.COM ", "jane.doe@example.com"),
    ("\tjane@example.com\n", "jane@example.com"),
    ("\u00a0jane@example.com\u00a0", "jane@example.com"),  # no-break spaces
    ("\u200bjane@example.com\ufeff", "jane@example.com"),  # zero-width space, BOM
    ("\u2003jane@example.com\u3000", "jane@example.com"),  # em space, ideographic space
    ("mailto:jane@example.com", "jane@example.com"),
    ("MAILTO:Jane@Example.com?subject=Hello", "jane@example.com"),
    ('"jane@example.com"', "jane@example.com"),
    ("'jane@example.com'", "jane@example.com"),
    ("\u201cjane@example.com\u201d", "jane@example.com"),
    ("<jane@example.com>", "jane@example.com"),
    ("Jane Doe <jane@example.com>", "jane@example.com"),
    ('"Doe, Jane" <Jane.Doe@Example.com>', "jane.doe@example.com"),
    ("jane@example.com (work)", "jane@example.com"),
    ("o'brien+crm@example.ie", "o'brien+crm@example.ie"),
    ("first_last-1@sub.example.co.uk", "first_last-1@sub.example.co.uk"),
    ("user@xn--bcher-kva.ch", "user@bücher.ch"),  # punycode domain kept in Unicode
    ("user@Bücher.CH", "user@bücher.ch"),
    ("müller@exämple.de", "müller@exämple.de"),
    ("u\u0308ser@example.de", "üser@example.de"),  # decomposed umlaut → NFC
    ("josé@correo.es", "josé@correo.es"),
    ("用户@例子.广告", "用户@例子.广告"),
    ("a" * 64 + "@example.com", "a" * 64 + "@example.com"),
]


@pytest.mark.parametrize(("raw", "key"), VALID, ids=[repr(v[0])[:40] for v in VALID])
def test_valid_emails_get_lowercase_key(raw: str, key: str) -> None:
    result = normalize_email(raw)

    assert result == EmailResult(key, "valid", None)
    assert result.identifier == "email:" + key


INVALID = [
    ("n/a", Reason.EMAIL_PLACEHOLDER),
    ("N/A", Reason.EMAIL_PLACEHOLDER),
    ("none", Reason.EMAIL_PLACEHOLDER),
    ("-", Reason.EMAIL_PLACEHOLDER),
    ("--", Reason.EMAIL_PLACEHOLDER),
    ("unknown", Reason.EMAIL_PLACEHOLDER),
    ("noemail@noemail.com", Reason.EMAIL_PLACEHOLDER),
    ("no-reply@example.com", Reason.EMAIL_PLACEHOLDER),
    ("jane.example.com", Reason.EMAIL_NO_AT),
    ("jane at example dot com", Reason.EMAIL_NO_AT),
    ("jane@example.com; john@example.com", Reason.EMAIL_MULTIPLE),
    ("jane@example.com, john@example.com", Reason.EMAIL_MULTIPLE),
    ("jane@example.com john@example.com", Reason.EMAIL_MULTIPLE),
    ("jane@example.com / john@example.com", Reason.EMAIL_MULTIPLE),
    ("@example.com", Reason.EMAIL_EMPTY_LOCAL),
    ("a" * 65 + "@example.com", Reason.EMAIL_LOCAL_TOO_LONG),
    ("jane..doe@example.com", Reason.EMAIL_BAD_DOTS),
    (".jane@example.com", Reason.EMAIL_BAD_DOTS),
    ("jane.@example.com", Reason.EMAIL_BAD_DOTS),
    ("jane doe@example.com", Reason.EMAIL_BAD_CHARACTERS),
    ('"jane doe"@example.com', Reason.EMAIL_BAD_CHARACTERS),
    ("jane@@example.com", Reason.EMAIL_BAD_CHARACTERS),
    ("jane@", Reason.EMAIL_BAD_DOMAIN),
    ("jane@localhost", Reason.EMAIL_BAD_DOMAIN),
    ("jane@example", Reason.EMAIL_BAD_DOMAIN),
    ("jane@example.c0m", Reason.EMAIL_BAD_DOMAIN),
    ("jane@example.123", Reason.EMAIL_BAD_DOMAIN),
    ("jane@example.c", Reason.EMAIL_BAD_DOMAIN),
    ("jane@example..com", Reason.EMAIL_BAD_DOMAIN),
    ("jane@example.com.", Reason.EMAIL_BAD_DOMAIN),
    ("jane@-example.com", Reason.EMAIL_BAD_DOMAIN),
    ("jane@" + "b" * 64 + ".com", Reason.EMAIL_BAD_DOMAIN),  # label over 63 characters
    ("jane@[192.0.2.1]", Reason.EMAIL_BAD_DOMAIN),
    ("jane@printer.local", Reason.EMAIL_BAD_DOMAIN),
    ("jane@exa mple.com", Reason.EMAIL_BAD_CHARACTERS),
    (12345, Reason.EMAIL_NO_AT),
]


@pytest.mark.parametrize(("raw", "reason"), INVALID, ids=[repr(v[0])[:40] for v in INVALID])
def test_invalid_emails_carry_reason(raw: object, reason: Reason) -> None:
    result = normalize_email(raw)

    assert result.verdict == "invalid"
    assert result.key is None
    assert result.reason == reason


@pytest.mark.parametrize("raw", [None, "", "   ", "\u00a0\u200b", "\t\n", float("nan")])
def test_blank_is_missing(raw: object) -> None:
    assert normalize_email(raw) == EmailResult(None, "missing", None)


def test_result_is_immutable() -> None:
    result = normalize_email("jane@example.com")

    with pytest.raises(AttributeError):
        result.key = "x"  # type: ignore[misc]


def test_fast_path_and_email_validator_agree() -> None:
    from contact_sync import emails

    samples = ["Jane@Example.com", "a.b-c_d%e+f@x-y.example.org", "x@a.test", "x@ab--cd.com", "x@a.invalid"]
    for sample in samples:
        fast = emails._fast_path(sample)
        slow = emails._slow_path(sample)
        assert fast is None or fast == slow, sample

"""Property-based tests: the normalisers never raise, are idempotent, and valid keys match the patterns."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contact_sync import E164_PATTERN, classify, normalize_email, normalize_phone
from contact_sync.emails import _fast_path, _slow_path
from contact_sync.validation import EMAIL_KEY_PATTERN

E164 = re.compile(E164_PATTERN)
EMAIL_KEY = re.compile(EMAIL_KEY_PATTERN)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

phone_like = st.text(alphabet="0123456789 +-().x#ext:0٠१０", max_size=30)
local_part = st.from_regex(r"[A-Za-z0-9_%+-]{1,20}(\.[A-Za-z0-9_%+-]{1,10}){0,2}", fullmatch=True)
domain = st.from_regex(r"([A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?\.){1,3}[A-Za-z]{2,6}", fullmatch=True)
email_like = st.one_of(
    st.text(max_size=60),
    st.builds(lambda a, b: f"{a}@{b}", local_part, domain),
    st.builds(lambda a, b, c: f"{c} <{a}@{b}>", local_part, domain, st.text(max_size=10)),
    st.builds(
        lambda a, b, pad: f"{pad}{a}@{b}{pad}", local_part, domain, st.sampled_from([" ", "\u00a0", "\u200b"])
    ),
    st.builds(lambda a, b: f"{a}@{b}", st.text(min_size=1, max_size=10), st.text(min_size=1, max_size=12)),
)
countries = st.one_of(
    st.none(),
    st.sampled_from(["US", "GB", "Deutschland", "FRA", "India", "日本", "Atlantis", ""]),
    st.text(max_size=12),
)


@SETTINGS
@given(st.one_of(st.text(), email_like, st.none(), st.integers(), st.floats()))
def test_normalize_email_never_raises_and_is_idempotent(raw: object) -> None:
    result = normalize_email(raw)

    assert result.verdict in ("valid", "invalid", "missing")
    assert (result.key is not None) == (result.verdict == "valid")
    assert (result.reason is None) == (result.verdict != "invalid")
    if result.key is not None:
        assert result.key == result.key.lower()
        assert EMAIL_KEY.match(result.key), result.key
        assert normalize_email(result.key).key == result.key


@SETTINGS
@given(st.builds(lambda a, b: f"{a}@{b}", local_part, domain))
def test_email_fast_path_agrees_with_email_validator(address: str) -> None:
    fast = _fast_path(address)

    assert fast is None or fast == _slow_path(address)


@SETTINGS
@given(st.one_of(st.text(), phone_like, st.none(), st.integers()), countries)
def test_normalize_phone_never_raises_and_is_idempotent(raw: object, country: str | None) -> None:
    result = normalize_phone(raw, country)

    assert result.verdict in ("valid", "invalid", "missing")
    assert (result.key is not None) == (result.verdict == "valid")
    if result.key is not None:
        assert E164.match(result.key), result.key
        again = normalize_phone(result.key, country)
        assert again.key == result.key
        assert again.region_source == "number"


@SETTINGS
@given(
    st.fixed_dictionaries(
        {
            "Id": st.text(max_size=18),
            "Email": email_like,
            "Phone": phone_like,
            "MobilePhone": st.text(max_size=20),
            "MailingCountry": countries,
            "CreatedDate": st.one_of(st.none(), st.text(max_size=30)),
        }
    )
)
def test_classify_never_raises(contact: dict[str, object]) -> None:
    result = classify(contact)

    assert result.verdict in ("valid", "invalid", "missing")
    assert (result.identifier is None) == (result.verdict != "valid")

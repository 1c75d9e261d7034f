"""MailingCountry → phone region."""

from __future__ import annotations

import pytest

from contact_sync import resolve_region

CASES = [
    ("GB", "GB"),
    ("gb", "GB"),
    ("GBR", "GB"),
    ("UK", "GB"),
    ("U.K.", "GB"),
    ("United Kingdom", "GB"),
    ("Great Britain", "GB"),
    ("England", "GB"),
    ("DE", "DE"),
    ("DEU", "DE"),
    ("Germany", "DE"),
    ("Deutschland", "DE"),
    ("Allemagne", "DE"),
    ("US", "US"),
    ("USA", "US"),
    ("U.S.A.", "US"),
    ("United States of America", "US"),
    ("  united states ", "US"),
    ("Österreich", "AT"),
    ("Osterreich", "AT"),
    ("España", "ES"),
    ("México", "MX"),
    ("Brasil", "BR"),
    ("The Netherlands", "NL"),
    ("Holland", "NL"),
    ("日本", "JP"),
    ("Россия", "RU"),
    ("中国", "CN"),
    ("Côte d’Ivoire", "CI"),
    ("Korea, Republic of", "KR"),
    ("Türkiye", "TR"),
    ("Viet Nam", "VN"),
    ("UAE", "AE"),
    ("IND", "IN"),
    ("Schweiz", "CH"),
    ("Polska", "PL"),
    ("Antarctica", None),
    ("Atlantis", None),
    ("", None),
    (None, None),
    ("  ", None),
    (42, None),
    ("XX", None),
]


@pytest.mark.parametrize(("country", "region"), CASES, ids=[repr(c[0]) for c in CASES])
def test_resolve_region(country: object, region: str | None) -> None:
    assert resolve_region(country) == region

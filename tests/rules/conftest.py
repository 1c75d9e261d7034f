"""Fixtures for the domain-rule tests: a factory for Salesforce-shaped contact dicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

BASE_TIME = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def sf_id(n: int, prefix: str = "003") -> str:
    """An 18-character Salesforce-shaped Id."""
    return f"{prefix}{n:012d}AAA"[:18].ljust(18, "A")


def sf_time(seconds: float) -> str:
    """A Salesforce JSON datetime ``seconds`` after :data:`BASE_TIME`."""
    moment = BASE_TIME + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


@pytest.fixture
def make_contact() -> Callable[..., dict[str, Any]]:
    """Build a contact dict; ``n`` sets Id and CreatedDate (n seconds after the base time)."""

    def build(n: int, **fields: Any) -> dict[str, Any]:
        contact: dict[str, Any] = {
            "Id": sf_id(n),
            "FirstName": f"First{n}",
            "LastName": f"Last{n}",
            "Email": None,
            "Phone": None,
            "MobilePhone": None,
            "MailingCountry": None,
            "CreatedDate": sf_time(n),
            "CreatedById": "005000000000001AAA",
            "SystemModstamp": sf_time(n),
        }
        contact.update(fields)
        return contact

    return build

"""
respond.io contact identifiers: ``id:<n>``, ``email:<address>``, ``phone:+<E.164>``.

:func:`contact_identifier` is the only place an identifier is built; every other module passes
:class:`ContactIdentifier` values around, so no code pastes ``"email:" + x`` together.

>>> str(contact_identifier("email", " Jane@Example.COM "))
'email:jane@example.com'
>>> contact_identifier("phone", "+60 12-123 3112").path_segment()
'phone:+60121233112'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

__all__ = ["ContactIdentifier", "IdentifierKind", "contact_identifier", "parse_identifier"]

IdentifierKind = Literal["id", "email", "phone"]

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_PHONE_NOISE = re.compile(r"[^\d+]")
# respond.io's own clients put identifiers into the path unencoded; keep every character that is legal in a
# path segment as is (``+`` stays a literal plus, ``@`` and ``:`` unescaped) and escape the rest.
_SEGMENT_SAFE = ":@+!$&'()*,;=-._~"


@dataclass(frozen=True)
class ContactIdentifier:
    """A validated identifier; build it with :func:`contact_identifier`."""

    kind: IdentifierKind
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"

    def path_segment(self) -> str:
        """The identifier as a URL path segment."""
        return quote(str(self), safe=_SEGMENT_SAFE)


def contact_identifier(kind: IdentifierKind, value: str | int) -> ContactIdentifier:
    """Build an identifier, normalising the value the way respond.io expects it.

    - ``email``: trimmed and lower-cased, must look like an address;
    - ``phone``: everything but digits and ``+`` removed, must then be E.164 (``+`` and country code; turning
      national numbers into E.164 is the domain package's job, not this function's);
    - ``id``: a positive integer.

    :param kind: ``id``, ``email`` or ``phone``.
    :param value: the raw value.
    :raises ValueError: the value cannot form a valid identifier (the message names the kind, not the value).
    """
    if kind == "id":
        text = str(value).strip()
        if not text.isdigit() or int(text) <= 0:
            raise ValueError("id identifier needs a positive integer contact id")
        return ContactIdentifier("id", str(int(text)))
    if not isinstance(value, str):
        raise ValueError(f"{kind} identifier needs a string value")
    if kind == "email":
        email = value.strip().lower()
        if not _EMAIL.match(email):
            raise ValueError("email identifier needs a valid e-mail address")
        return ContactIdentifier("email", email)
    if kind == "phone":
        phone = _PHONE_NOISE.sub("", value)
        if not _E164.match(phone):
            raise ValueError("phone identifier needs an E.164 number (+ and country code)")
        return ContactIdentifier("phone", phone)
    raise ValueError("identifier kind must be id, email or phone")


def parse_identifier(text: str | ContactIdentifier) -> ContactIdentifier:
    """Parse ``kind:value`` (e.g. from a log or a state table) through :func:`contact_identifier`."""
    if isinstance(text, ContactIdentifier):
        return text
    kind, sep, value = str(text).partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in ("id", "email", "phone"):
        raise ValueError("identifier must look like id:<n>, email:<address> or phone:<E.164>")
    return contact_identifier(kind, value)  # type: ignore[arg-type]

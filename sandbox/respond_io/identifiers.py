"""Contact identifiers (``id:<n>``, ``email:<address>``, ``phone:+E164``) and field-format checks.

The segment is parsed as the ASGI server hands it over: percent-escapes (``%2B``, ``%40``) already decoded
once, and ``+`` a literal plus (paths are never form-decoded, so ``email:a+b@x.com`` is that address).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["EMAIL_RE", "PHONE_RE", "Identifier", "IdentifierError", "parse_identifier"]

#: E.164 as validated by respond.io's MCP server.
PHONE_RE = re.compile(r"^\+[1-9]\d{1,14}$")
#: Basic e-mail shape as validated by respond.io's MCP server.
EMAIL_RE = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_ID_RE = re.compile(r"^[0-9]{1,18}$")

IdentifierKind = Literal["id", "email", "phone"]


class IdentifierError(ValueError):
    """The identifier is malformed (answered with 400 "Validation error.")."""


@dataclass(frozen=True)
class Identifier:
    """A parsed contact identifier."""

    kind: IdentifierKind
    value: str

    @property
    def contact_id(self) -> int:
        return int(self.value)


def parse_identifier(raw: str) -> Identifier:
    """Parse a ``{identifier}`` path segment.

    :param raw: the percent-decoded path segment.
    :raises IdentifierError: unknown type or malformed value.
    """
    kind, sep, value = raw.partition(":")
    if not sep:
        raise IdentifierError("identifier must look like id:<n>, email:<address> or phone:<E.164>")
    kind = kind.strip().lower()
    if kind == "id":
        if not _ID_RE.match(value):
            raise IdentifierError("id must be a positive integer")
        return Identifier("id", str(int(value)))
    if kind == "email":
        if not EMAIL_RE.match(value):
            raise IdentifierError("email is not a valid e-mail address")
        return Identifier("email", value)
    if kind == "phone":
        if not PHONE_RE.match(value):
            raise IdentifierError("phone must be E.164, e.g. +60121233112")
        return Identifier("phone", value)
    raise IdentifierError("identifier type must be id, email or phone")

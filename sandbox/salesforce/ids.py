"""Salesforce record ids: 15-char case-sensitive ids and their 18-char case-insensitive form.

The 3-char suffix encodes, for each 5-char chunk of the 15-char id, which positions are upper-case letters
(bit *i* set for position *i*), as one character of ``A-Z0-5``. The suffix therefore lets an 18-char id be
restored to the right case whatever case it was typed in.
"""

from __future__ import annotations

import re

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID15 = re.compile(r"^[0-9A-Za-z]{15}$")
_ID18 = re.compile(r"^[0-9A-Za-z]{15}[A-Za-z0-5]{3}$")

PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "User": "005",
    "Lead": "00Q",
    "Organization": "00D",
    "QueryLocator": "01g",
    "Job": "750",
}


def checksum(id15: str) -> str:
    """The 3-char case-insensitivity suffix of a 15-char id."""
    out = []
    for chunk in range(3):
        bits = 0
        for pos, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << pos
        out.append(_SUFFIX_ALPHABET[bits])
    return "".join(out)


def to18(record_id: str) -> str | None:
    """Return the canonical 18-char id for a 15- or 18-char id (any case for 18), or ``None`` if malformed."""
    if _ID15.match(record_id):
        return record_id + checksum(record_id)
    if not _ID18.match(record_id):
        return None
    suffix = record_id[15:].upper()
    chars = list(record_id[:15])
    for chunk, code in enumerate(suffix):
        bits = _SUFFIX_ALPHABET.index(code)
        for pos in range(5):
            index = chunk * 5 + pos
            char = chars[index]
            if char.isalpha():
                chars[index] = char.upper() if bits & (1 << pos) else char.lower()
            elif bits & (1 << pos):
                return None
    id15 = "".join(chars)
    return id15 + checksum(id15)


def make_id(prefix: str, number: int, pod: str = "5g") -> str:
    """Build an 18-char id from a key prefix, a 2-char pod/instance part and a sequence number."""
    digits = []
    for _ in range(10):
        number, rest = divmod(number, 62)
        digits.append(_BASE62[rest])
    id15 = prefix + pod + "".join(reversed(digits))
    return id15 + checksum(id15)


def has_prefix(record_id: str, sobject: str) -> bool:
    """Whether ``record_id`` carries the key prefix of ``sobject``."""
    return record_id[:3] == PREFIXES.get(sobject)

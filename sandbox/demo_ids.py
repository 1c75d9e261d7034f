"""Salesforce record ids: 15-char case-sensitive ids, their 18-char case-insensitive form, demo id factory.

A 15-char id is ``<3-char key prefix><2-char pod><1 reserved><9-char base62 counter>``. The 18-char form
appends one checksum character per 5-char chunk: bit ``i`` of the chunk's value is set when character ``i``
is an upper-case ``A``-``Z``, and the 5-bit value indexes ``ABCDEFGHIJKLMNOPQRSTUVWXYZ012345``
(``001D000000IRFma`` -> ``001D000000IRFmaIAH``).

The base62 alphabet ``0-9A-Za-z`` is in ASCII order, so ids made by :func:`salesforce_id` for increasing ``n``
sort (as plain strings) in creation order.
"""

from __future__ import annotations

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
DEMO_POD = "Dm"


def id18(id15: str) -> str:
    """Return the 18-char case-insensitive form of a 15-char Salesforce id (18-char ids are returned as is).

    :param id15: a 15-char id (an 18-char id is checked and returned unchanged).
    :raises ValueError: if the id is not 15 or 18 alphanumeric ASCII chars, or an 18-char suffix is wrong.
    """
    if len(id15) not in (15, 18) or not id15.isascii() or not id15.isalnum():
        raise ValueError("a Salesforce id has 15 or 18 alphanumeric characters")
    base = id15[:15]
    suffix = ""
    for start in (0, 5, 10):
        bits = 0
        for pos, char in enumerate(base[start : start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << pos
        suffix += _SUFFIX_CHARS[bits]
    if len(id15) == 18 and id15[15:].upper() != suffix:
        raise ValueError("the 18-char id has a wrong checksum suffix")
    return base + suffix


def base62(number: int, width: int) -> str:
    """Encode a non-negative integer in ``width`` base62 digits (``0-9A-Za-z``).

    :raises ValueError: if the number is negative or does not fit.
    """
    if number < 0 or number >= 62**width:
        raise ValueError("number out of range for the requested width")
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits))


def salesforce_id(prefix: str, n: int, *, pod: str = DEMO_POD) -> str:
    """Return the ``n``-th 18-char demo id for a key prefix (``003`` Contact, ``005`` User, ``001`` Account).

    :param prefix: 3-char key prefix.
    :param n: counter, ``0 <= n < 62**9``.
    :param pod: 2-char instance part; the demo generator uses ``Dm``, stand-ins may pick another one.
    """
    if len(prefix) != 3 or len(pod) != 2:
        raise ValueError("prefix must have 3 and pod 2 characters")
    return id18(prefix + pod + "0" + base62(n, 9))

"""Cleaning of raw CRM text shared by the email and phone normalisers."""

from __future__ import annotations

import math
import re

# Invisible characters that survive ``str.strip()``: zero-width space/joiners, word joiner, BOM, soft hyphen,
# bidi marks and embeddings (common in numbers copied from right-to-left text).
_INVISIBLE = (
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_INVISIBLE_TABLE = {ord(ch): None for ch in _INVISIBLE}
_INVISIBLE_RE = re.compile("[" + _INVISIBLE + "]")
_SPACE_RUN = re.compile(r"\s+")


#: Whole values that mean "no value" in any CRM field (compared case-folded, spaces collapsed).
PLACEHOLDERS = frozenset(
    {"n/a", "na", "n.a.", "n.a", "#n/a", "none", "null", "nil", "nan", "-", "--", "---", ".", "?", "x", "unknown",
     "not available", "not provided", "tbd", "tba", "test"}
)  # fmt: skip


def clean_text(raw: object) -> str:
    """Return ``raw`` as a string without invisible characters and surrounding whitespace of any kind.

    ``None``, NaN and non-text values that carry no digits (e.g. ``False``) become ``""``. Integers (a phone
    exported as a number) are rendered without a decimal point.

    :param raw: a value as read from Salesforce, a CSV or a DataFrame.
    :return: the cleaned text; ``""`` means blank.
    """
    if raw is None:
        return ""
    if isinstance(raw, str):
        text = raw
    elif isinstance(raw, bool):
        return ""
    elif isinstance(raw, int):
        text = str(raw)
    elif isinstance(raw, float):
        if math.isnan(raw) or math.isinf(raw):
            return ""
        text = str(int(raw)) if raw.is_integer() else repr(raw)
    elif isinstance(raw, bytes):
        text = raw.decode("utf-8", errors="replace")
    else:
        text = str(raw)
    if _INVISIBLE_RE.search(text) is not None:
        text = text.translate(_INVISIBLE_TABLE)
    return text.strip()


def collapse_spaces(text: str) -> str:
    """Collapse every run of whitespace (any kind) to one ASCII space.

    :param text: already-cleaned text.
    :return: the text with single spaces.
    """
    return _SPACE_RUN.sub(" ", text)

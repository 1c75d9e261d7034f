"""Email normalisation: one canonical matching key per address, syntax only (no DNS).

The key is the whole address lower-cased, with an internationalised (IDN) domain kept in Unicode and
NFC-normalised. Clean ASCII addresses take a regex fast path; everything else goes through
``email-validator`` (``check_deliverability=False``). A test checks that both paths agree.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple

from contact_sync.reasons import Reason, Verdict
from contact_sync.text import PLACEHOLDERS, clean_text, collapse_spaces

__all__ = ["EmailResult", "normalize_email"]

_MAX_LOCAL = 64
_MAX_ADDRESS = 254

#: Whole values that mean "no email" (compared case-folded, spaces collapsed).
_PLACEHOLDER_VALUES = PLACEHOLDERS | {
    "xx", "xxx", "0", "noemail", "no email", "no-email", "no_email", "email", "e-mail", "@",
}  # fmt: skip
#: Local parts that never belong to a person (``noemail@noemail.com`` and friends).
_PLACEHOLDER_LOCALS = frozenset(
    {
        "noemail",
        "no-email",
        "no.email",
        "no_email",
        "nomail",
        "none",
        "null",
        "unknown",
        "donotemail",
        "do-not-email",
        "noreply",
        "no-reply",
        "do-not-reply",
        "donotreply",
        "invalid",
        "n-a",
        "na",
    }
)

_FAST = re.compile(
    r"(?P<local>[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*)@"
    r"(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_TLD = re.compile(r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})", re.ASCII)
_DISPLAY_FORM = re.compile(r"^(?P<name>.*?)<(?P<addr>[^<>]*)>\s*(?:\([^()]*\))?$", re.DOTALL)
_TRAILING_COMMENT = re.compile(r"\s*\([^()]*\)$")
_SEPARATORS = re.compile(r"[,;\s/|]+")
_QUOTES = ('""', "''", "``", "\u201c\u201d", "\u2018\u2019", "\u00ab\u00bb", "<>", "[]", "()")


class EmailResult(NamedTuple):
    """Outcome of :func:`normalize_email` (an immutable named tuple: cheap to build and to pickle).

    :param key: the matching key (lower-cased address), or ``None`` unless ``verdict == "valid"``.
    :param verdict: ``"valid"``, ``"invalid"`` or ``"missing"``.
    :param reason: ``None`` when valid or missing, else the :class:`~contact_sync.reasons.Reason` code.
    """

    key: str | None
    verdict: Verdict
    reason: Reason | None = None

    @property
    def identifier(self) -> str | None:
        """The respond.io identifier ``email:<key>``, or ``None``."""
        return None if self.key is None else "email:" + self.key


_MISSING = EmailResult(None, "missing")
_INVALID: dict[Reason, EmailResult] = {}


def _invalid(reason: Reason) -> EmailResult:
    result = _INVALID.get(reason)
    if result is None:
        result = _INVALID[reason] = EmailResult(None, "invalid", reason)
    return result


def _is_placeholder(text: str) -> bool:
    folded = collapse_spaces(text).casefold()
    return folded in _PLACEHOLDER_VALUES or not any(ch.isalnum() for ch in folded)


@functools.lru_cache(maxsize=8)
def _special_use_table(names: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    return frozenset(names), tuple("." + name for name in names)


def _special_use(domain: str) -> bool:
    """``domain`` is, or is under, a special-use name (read from email-validator's list on every call)."""
    import email_validator

    names, dotted = _special_use_table(tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES))
    return domain in names or domain.endswith(dotted)


def _fast_path(text: str) -> EmailResult | None:
    """Decide clean ASCII addresses without email-validator; ``None`` means "take the slow path"."""
    match = _FAST.fullmatch(text)
    if match is None:
        return None
    local, domain = match.group("local"), match.group("domain").lower()
    if len(local) > _MAX_LOCAL or len(text) > _MAX_ADDRESS or "--" in domain or _special_use(domain):
        return None
    key = text.lower()
    return _finish(key)


def _finish(key: str) -> EmailResult:
    local, _, domain = key.rpartition("@")
    if local in _PLACEHOLDER_LOCALS:
        return _invalid(Reason.EMAIL_PLACEHOLDER)
    return EmailResult(key, "valid")


def _unwrap(text: str) -> str:
    """Strip ``mailto:``, surrounding quotes/brackets and a display name, repeatedly."""
    previous = None
    while text != previous:
        previous = text
        if text[:7].lower() == "mailto:":
            text = text[7:].split("?", 1)[0].strip()
        if len(text) >= 2 and any(text[0] == pair[0] and text[-1] == pair[1] for pair in _QUOTES):
            text = text[1:-1].strip()
        display = _DISPLAY_FORM.match(text)
        if display is not None and "@" in display.group("addr"):
            text = display.group("addr").strip()
        elif "@" in text:
            text = _TRAILING_COMMENT.sub("", text)
    return text


def _reason_for(message: str) -> Reason:
    lowered = message.lower()
    if "too long" in lowered and "after the @-sign" not in lowered:
        return Reason.EMAIL_TOO_LONG
    if "before the @-sign" in lowered or "quoting" in lowered or "quoted" in lowered:
        return Reason.EMAIL_BAD_CHARACTERS
    if "@-sign" in lowered or "domain" in lowered or "period" in lowered or "hyphen" in lowered:
        return Reason.EMAIL_BAD_DOMAIN
    if "invalid character" in lowered:
        return Reason.EMAIL_BAD_CHARACTERS
    return Reason.EMAIL_INVALID


def _slow_path(text: str) -> EmailResult:
    import email_validator

    unwrapped = _unwrap(text)
    if unwrapped != text:
        # "mailto:jane@x.com", "Jane <jane@x.com>", "'jane@x.com'": once unwrapped, a clean address takes the
        # fast path (which agrees with the rest of this function, see the property test), sparing email-validator.
        fast = _fast_path(unwrapped)
        if fast is not None:
            return fast
    text = unwrapped
    if not text or _is_placeholder(text):
        return _invalid(Reason.EMAIL_PLACEHOLDER)
    at_count = text.count("@")
    if at_count == 0:
        return _invalid(Reason.EMAIL_NO_AT)
    if at_count > 1 and sum(1 for part in _SEPARATORS.split(text) if "@" in part.strip("@")) > 1:
        return _invalid(Reason.EMAIL_MULTIPLE)
    local, _, domain = text.rpartition("@")
    if not local:
        return _invalid(Reason.EMAIL_EMPTY_LOCAL)
    if not domain:
        return _invalid(Reason.EMAIL_BAD_DOMAIN)
    if any(ch.isspace() for ch in text) or "@" in local:
        return _invalid(Reason.EMAIL_BAD_CHARACTERS)
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return _invalid(Reason.EMAIL_BAD_DOTS)
    if len(local) > _MAX_LOCAL:
        return _invalid(Reason.EMAIL_LOCAL_TOO_LONG)
    try:
        validated = email_validator.validate_email(
            text,
            check_deliverability=False,
            allow_smtputf8=True,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            allow_empty_local=False,
        )
    except email_validator.EmailNotValidError as exc:
        return _invalid(_reason_for(str(exc)))
    ascii_domain = (validated.ascii_domain or "").lower()
    if "." not in ascii_domain or _TLD.fullmatch(ascii_domain.rsplit(".", 1)[1]) is None:
        return _invalid(Reason.EMAIL_BAD_DOMAIN)
    if len(validated.local_part) > _MAX_LOCAL:
        return _invalid(Reason.EMAIL_LOCAL_TOO_LONG)
    key = unicodedata.normalize("NFC", validated.normalized.lower())
    return _finish(key)


def normalize_email(raw: object) -> EmailResult:
    """Normalise one email value into a matching key.

    Blank (after trimming every kind of whitespace, zero-width characters included) → ``missing``;
    unusable → ``invalid`` with a reason code; otherwise ``valid`` with the lower-cased address as key.
    Never raises.

    :param raw: the ``Email`` value as stored in Salesforce (any type; ``None`` is blank).
    :return: an immutable :class:`EmailResult`.
    """
    text = clean_text(raw)
    if not text:
        return _MISSING
    fast = _fast_path(text)
    if fast is not None:
        return fast
    if _is_placeholder(text):
        return _invalid(Reason.EMAIL_PLACEHOLDER)
    try:
        return _slow_path(text)
    except Exception:  # noqa: BLE001 - the normaliser must never raise on data; unknown failures are invalid
        return _invalid(Reason.EMAIL_INVALID)

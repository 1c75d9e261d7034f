"""Phone numbers for the demo generator: unique valid numbers per country, clean formats and messy variants.

Numbers come from the frozen stems in :mod:`sandbox.demo_phone_stems` (valid per libphonenumber for their
country and kind). :class:`PhoneBook` hands out each number at most once per (country, kind) until a stem's
``10**FREE_DIGITS`` completions are used up: different people only share a number on purpose.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from typing import Literal

from sandbox.demo_phone_stems import FREE_DIGITS, STEMS

Kind = Literal["fixed", "mobile"]

CLEAN_STYLES: tuple[tuple[str, int], ...] = (
    ("e164", 25),
    ("intl", 25),
    ("natl", 24),
    ("natl_dash", 8),
    ("natl_dot", 4),
    ("natl_digits", 6),
    ("intl_dash", 4),
    ("intl_paren", 4),
)
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_EXT_ARABIC_INDIC = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_FULLWIDTH = str.maketrans("0123456789+-", "０１２３４５６７８９＋－")
_VANITY_WORDS = ("FLOWERS", "CONTACT", "GETHELP", "PLUMBER", "SUPPORT", "DENTIST", "LAWYERS", "CALLNOW")
_TOLL_FREE = ("800", "888", "877", "866", "855", "844")
SHORT_JUNK = ("12 3", "123", "555", "0", "1234", "+1", "00", "12-34", "99")
TEXT_JUNK = (
    "call me",
    "ask reception",
    "n/a",
    "TBD",
    "unknown",
    "see notes",
    "no phone",
    "xxx",
    "-",
    "?",
    "same as mobile",
    "ask for Bob",
)
_EXT_FORMS = (" x{}", " ext. {}", " ext {}", " Ext: {}", ";ext={}", " #{}", ", ext.{}", " X{}")


@dataclass(frozen=True, slots=True)
class Phone:
    """One phone number: region, national significant number and its formatting templates."""

    region: str
    nsn: str
    country_code: str
    intl_template: str
    natl_template: str

    @property
    def e164(self) -> str:
        return "+" + self.country_code + self.nsn

    def fill(self, template: str) -> str:
        digits = iter(self.nsn)
        return "".join(next(digits) if ch == "#" else ch for ch in template)

    @property
    def has_trunk_zero(self) -> bool:
        return self.natl_template.lstrip("(").startswith("0")


def _country_code(template: str) -> str:
    return template[1:].split(" ", 1)[0].split("-", 1)[0]


class PhoneBook:
    """Hands out distinct valid numbers per (region, kind), deterministically for a seed.

    The ``k``-th number of a (region, kind) uses stem ``k % S`` and free digits ``perm[(k // S + c) % 10**d]``
    with a seeded permutation ``perm`` and a per-stem constant ``c``: unique for the first ``S * 10**d``
    numbers, and without visible patterns between neighbours.
    """

    def __init__(self, seed: int) -> None:
        self._perm = list(range(10**FREE_DIGITS))
        random.Random(f"demo-phones:{seed}").shuffle(self._perm)
        self._counters: dict[tuple[str, str], int] = {}

    def allocate(self, region: str, kind: Kind) -> Phone:
        stems = STEMS[region][kind]
        key = (region, kind)
        k = self._counters.get(key, 0)
        self._counters[key] = k + 1
        index, round_ = k % len(stems), k // len(stems)
        stem, intl, natl = stems[index]
        offset = zlib.crc32(stem.encode()) + index * 397
        free = self._perm[(round_ + offset) % 10**FREE_DIGITS]
        return Phone(region, stem + str(free).zfill(FREE_DIGITS), _country_code(intl), intl, natl)


def format_clean(phone: Phone, style: str) -> str:
    """Format a number in one of :data:`CLEAN_STYLES` (each parses as the same valid number)."""
    if style == "e164":
        return phone.e164
    if style == "intl":
        return phone.fill(phone.intl_template)
    if style == "intl_dash":
        return phone.fill(phone.intl_template).replace(" ", "-")
    if style == "intl_paren":
        cc, _, rest = phone.fill(phone.intl_template).partition(" ")
        group, sep, tail = rest.replace("-", " ").partition(" ")
        return f"{cc} ({group}) {tail}" if sep else f"{cc} {rest}"
    natl = phone.fill(phone.natl_template)
    if style == "natl":
        return natl
    plain = natl.replace("(", "").replace(")", "")
    if style == "natl_dash":
        return plain.replace(" ", "-")
    if style == "natl_dot":
        return plain.replace(" ", ".").replace("-", ".")
    if style == "natl_digits":
        return "".join(ch for ch in natl if ch.isdigit())
    raise ValueError(f"unknown clean phone style {style!r}")


def format_messy(phone: Phone, kind: str, rng: random.Random, clean: str, other: Phone | None = None) -> str:
    """Return a messy rendering of ``phone`` (``clean`` is a clean rendering of it) for category ``kind``."""
    intl = phone.fill(phone.intl_template)
    cc, _, rest = intl.partition(" ")
    if kind == "trunk":
        return rng.choice((f"{cc} (0){rest}", f"{cc} (0) {rest}", f"{cc}(0){rest}"))
    if kind == "idd":
        if phone.country_code != "1" and rng.random() < 0.3:
            return f"011 {cc[1:]} {rest}"
        return rng.choice((f"00{cc[1:]} {rest}", f"00 {cc[1:]} {rest}", f"00{phone.country_code}{phone.nsn}"))
    if kind == "ext":
        return clean + rng.choice(_EXT_FORMS).format(rng.randrange(10, 9999))
    if kind == "unicode":
        table = rng.choice((_ARABIC_INDIC, _EXT_ARABIC_INDIC, _FULLWIDTH))
        return clean.translate(table)
    if kind == "long":
        extra = "".join(rng.choice("0123456789") for _ in range(max(2, 18 - len(phone.nsn))))
        return clean + extra
    if kind == "two" and other is not None:
        return (
            clean
            + rng.choice((" / ", ", ", " or ", "; ", " & "))
            + format_clean(other, rng.choice(("natl", "intl")))
        )
    if kind == "invisible":
        choice = rng.randrange(4)
        if choice == 0:
            return intl.replace(" ", "\u00a0")
        if choice == 1:
            return "\u200e" + clean
        if choice == 2:
            return clean + "\u200b"
        return "\ufeff" + clean
    if kind == "noplus":
        return intl[1:]
    raise ValueError(f"unknown messy phone kind {kind!r}")


def vanity_number(rng: random.Random) -> str:
    """A US toll-free vanity number such as ``1-800-FLOWERS``."""
    word = rng.choice(_VANITY_WORDS)
    prefix = rng.choice(_TOLL_FREE)
    return rng.choice(
        (
            f"1-{prefix}-{word}",
            f"+1 ({prefix}) {word[:3]}-{word[3:]}",
            f"{prefix}-{word}",
            f"1 {prefix} {word}",
        )
    )

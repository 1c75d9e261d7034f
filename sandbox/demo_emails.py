"""E-mail addresses for the demo generator: unique clean addresses and the messy forms CRMs hold."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random

CLEAN_DOMAINS: tuple[tuple[str, int], ...] = (
    ("example.com", 30),
    ("example.org", 14),
    ("example.net", 10),
    ("mail.example.com", 5),
    ("corp.example.org", 4),
    ("example.co.uk", 4),
    ("example.de", 4),
    ("example.fr", 3),
    ("example.com.br", 3),
    ("example.co.jp", 2),
    ("example.in", 3),
    ("example.com.my", 2),
)
COMPANIES = (
    "acme",
    "globex",
    "initech",
    "umbrella",
    "northwind",
    "contoso",
    "fabrikam",
    "tyrell",
    "hooli",
    "vandelay",
)
IDN_DOMAINS = (
    "müller.example",
    "bücher.example.de",
    "café.example.fr",
    "españa.example.com",
    "пример.испытание",
    "例え.テスト",
    "ελληνικά.example",
    "straße.example.de",
)
PLACEHOLDERS = (
    "n/a",
    "N/A",
    "none",
    "None",
    "-",
    "noemail@",
    "noemail@example.com",
    "no@email.com",
    "unknown",
    "na@na.com",
    "x",
    "test@test.com",
    ".",
    "no email",
    "NOEMAIL",
)
_PLUS_TAGS = ("sf", "newsletter", "crm", "2024", "work", "salesforce", "promo")
_ROLES = ("info", "sales", "office", "contact", "admin", "hello")


def clean_address(rng: random.Random, first: str, last: str, serial: int) -> str:
    """A lower-case address unique per ``serial`` (names are ASCII-folded, ``first`` may be empty)."""
    domain = _pick_domain(rng)
    if rng.random() < 0.04:  # a role mailbox at a company of its own
        return f"{rng.choice(_ROLES)}@{rng.choice(COMPANIES)}{serial}.example.com"
    if not first:
        return f"{last}{serial}@{domain}"
    pattern = rng.randrange(6)
    if pattern == 0:
        local = f"{first[0]}{last}"
    elif pattern == 1:
        local = f"{first}_{last}"
    elif pattern == 2:
        local = f"{last}.{first}"
    elif pattern == 3:
        local = first
    else:
        local = f"{first}.{last}"
    if rng.random() < 0.15:
        domain = f"{rng.choice(COMPANIES)}.example.com"
    return f"{local}{serial}@{domain}"


_DOMAIN_CUM = tuple(itertools.accumulate(weight for _, weight in CLEAN_DOMAINS))


def _pick_domain(rng: random.Random) -> str:
    return rng.choices(CLEAN_DOMAINS, cum_weights=_DOMAIN_CUM)[0][0]


def messy_address(rng: random.Random, kind: str, clean: str, display: str) -> str | None:
    """Return the ``kind`` messy form of the clean address ``clean`` (``display`` is the person's name)."""
    local, _, domain = clean.partition("@")
    if kind == "mixed_case":
        choice = rng.randrange(3)
        if choice == 0:
            return clean.upper()
        cased = ".".join(part.capitalize() for part in local.split("."))
        return f"{cased}@{domain.upper() if choice == 1 else domain.capitalize()}"
    if kind == "spaces":
        return rng.choice(
            (f" {clean}", f"{clean} ", f"  {clean}  ", f"{local} @{domain}", f"{local}@ {domain}")
        )
    if kind == "mailto":
        return rng.choice(("mailto:", "MAILTO:", "mailto: ")) + clean
    if kind == "display_name":
        return rng.choice((f"{display} <{clean}>", f'"{display}" <{clean}>', f"{display}<{clean}>"))
    if kind == "quoted":
        return rng.choice((f'"{clean}"', f"'{clean}'", f"<{clean}>"))
    if kind == "trailing_dot":
        return clean + rng.choice((".", ".", ","))
    if kind == "double_dot":
        if "." in local and rng.random() < 0.5:
            return clean.replace(".", "..", 1)
        return f"{local}@{domain.replace('.', '..', 1)}"
    if kind == "missing_at":
        return rng.choice(
            (f"{local}{domain}", f"{local}.{domain}", f"{local} at {domain}", f"{local}(at){domain}")
        )
    if kind == "two_addresses":
        other = f"{local.split('.')[0]}.private@example.net"
        return clean + rng.choice(("; ", ", ", ";", " / ", " ")) + other
    if kind == "placeholder":
        return rng.choice(PLACEHOLDERS)
    if kind == "idn":
        return f"{local}@{rng.choice(IDN_DOMAINS)}"
    if kind == "plus":
        return f"{local}+{rng.choice(_PLUS_TAGS)}@{domain}"
    if kind == "none":
        return None
    if kind == "empty":
        return rng.choice(("", " ", ""))
    if kind == "invisible":
        choice = rng.randrange(4)
        if choice == 0:
            return clean + "\u00a0"
        if choice == 1:
            return "\u00a0" + clean
        if choice == 2:
            return f"{local}\u200b@{domain}"
        return "\ufeff" + clean
    raise ValueError(f"unknown messy e-mail kind {kind!r}")

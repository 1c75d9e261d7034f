"""Deterministic generator of realistic, messy Salesforce Contacts, plus the respond.io contacts that exist.

``generate_contacts(n, seed=...)`` yields plain dicts shaped like Salesforce REST Contact records, in
``(CreatedDate, Id)`` order, with ``CreatedDate`` spread over ``[start, end)`` (default: the 7 days before
2026-11-01T00:00Z; nothing depends on the clock). Same arguments, same output; memory stays flat (a
generator); 100k rows take about 3 s. ``python -m sandbox.demo_data --count N --seed S --out f.jsonl`` writes
JSONL and prints one summary line.

Categories are dealt from shuffled decks (shares below are per 200 rows, countries per 117 rows), so every
category shows up in every deck-sized run of rows (hence at any ``n >= 500``) while the order stays random.

Timeline
    ``bulk_share`` (10 %) of the rows come in bulk-import bursts of 200-2,000 rows created by
    ``IMPORT_USER_ID`` within 1-14 s (Data Loader pace; one LeadSource and mostly one country per burst).
    Six regular users (``005...``) create the rest at random times, ~6 % of them in the same second as
    the row before. Ids (``003Dm0...``, 18 chars with the real checksum) increase with the yield order.
Email (of 200)
    clean 130 (lower-case, unique per person; example.com/.org/.net, example.<cc>, company sub-domains,
    4 % role mailboxes like ``info@acme17.example.com``), MixedCase 12, spaces 8, plus-addressing 6,
    ``mailto:`` 3, display-name ``Jane Doe <jane@x>`` 4, quoted/bracketed 3, trailing dot/comma 2, double
    dots 2, missing ``@`` 2, two addresses 3, placeholders (``n/a``, ``none``, ``-``, ``noemail@``...) 4,
    IDN domains 4, no-break / zero-width / BOM characters 3, None 12, empty/blank 4.
Phone (of 200)
    clean 126 (valid per libphonenumber: E.164, international, national, dashes, dots, digits only,
    parentheses; 25 countries, 75 % landlines, 3 % from another country than the mailing address),
    ``(0)`` trunk 8, ``00``/``011`` prefix 8, extensions 8, ``+`` missing 4, vanity ``1-800-FLOWERS`` 2,
    Arabic-Indic / fullwidth digits 4, too short 4, too long 3 (longer than any valid number), text junk 5,
    two numbers 3, invisible characters 3, None 14, empty 6.
MobilePhone (of 200)
    None 70, empty 6, clean mobile 105, and a few trunk/00/unicode/short/long/text/invisible/no-plus ones.
MailingCountry (of 100)
    English name 38, other spellings (``UK``, ``Deutschland``, ``España``, typos) 14, ISO alpha-2 14,
    alpha-3 5, lower case 5, upper case 5, alpha-2 lower case 2, None 14, empty 3;
    ``MailingCountryCode`` (alpha-2) is set for ~30 %.
Names
    Latin with diacritics, Cyrillic, Greek, Arabic, Hebrew, Devanagari, CJK, Thai, Hangul by country;
    FirstName None for 4 %; a few upper-case, lower-case or padded last names.
Shared keys
    ``duplicate_share`` (3 %) of the rows reuse the phone (a family landline: same surname and address,
    maybe typed differently) or the e-mail (a shared mailbox) or both of an earlier, different person.
    Otherwise clean e-mails and phone numbers are unique.

Salesforce caveats: a real org validates the ``Email`` field's syntax and stores blanks as null; the
generator still emits messy e-mails (as from a legacy import or a text field) because the sync must
survive them.
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import itertools
import json
import logging
import math
import random
import sys
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sandbox.demo_emails import PLACEHOLDERS, clean_address, messy_address
from sandbox.demo_ids import id18, salesforce_id
from sandbox.demo_locales import COUNTRIES, NAME_POOLS, Country
from sandbox.demo_phone_stems import STEMS
from sandbox.demo_phones import (
    CLEAN_STYLES,
    SHORT_JUNK,
    TEXT_JUNK,
    Phone,
    PhoneBook,
    format_clean,
    format_messy,
    vanity_number,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

__all__ = [
    "CONTACT_FIELDS",
    "DEFAULT_END",
    "DEFAULT_START",
    "IMPORT_USER_ID",
    "USER_IDS",
    "RowInfo",
    "generate_contacts",
    "generate_respond_io_existing",
    "id18",
    "iter_annotated",
    "main",
    "salesforce_id",
    "write_jsonl",
]

log = logging.getLogger(__name__)

DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)
DEFAULT_START = DEFAULT_END - timedelta(days=7)
CONTACT_ID_BASE = 10_000_000
IMPORT_USER_ID = salesforce_id("005", 9_000)
USER_IDS: tuple[str, ...] = tuple(salesforce_id("005", 1_000 + i) for i in range(6))
_USER_CUM = (30, 52, 70, 84, 94, 100)
CONTACT_FIELDS = (
    "Id",
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "MobilePhone",
    "MailingStreet",
    "MailingCity",
    "MailingState",
    "MailingPostalCode",
    "MailingCountry",
    "MailingCountryCode",
    "LeadSource",
    "Title",
    "OwnerId",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
    "IsDeleted",
    "MasterRecordId",
)

EMAIL_MIX: dict[str, int] = {
    "clean": 130,
    "mixed_case": 12,
    "spaces": 8,
    "plus": 6,
    "mailto": 3,
    "display_name": 4,
    "quoted": 3,
    "trailing_dot": 2,
    "double_dot": 2,
    "missing_at": 2,
    "two_addresses": 3,
    "placeholder": 4,
    "idn": 4,
    "invisible": 3,
    "none": 12,
    "empty": 4,
}
PHONE_MIX: dict[str, int] = {
    "clean": 126,
    "trunk": 8,
    "idd": 8,
    "ext": 8,
    "noplus": 4,
    "vanity": 2,
    "unicode": 4,
    "short": 4,
    "long": 3,
    "text": 5,
    "two": 3,
    "invisible": 3,
    "none": 14,
    "empty": 6,
}
MOBILE_MIX: dict[str, int] = {
    "none": 70,
    "empty": 6,
    "clean": 105,
    "trunk": 3,
    "idd": 4,
    "unicode": 2,
    "short": 2,
    "long": 1,
    "text": 2,
    "invisible": 2,
    "noplus": 3,
}
COUNTRY_MIX: dict[str, int] = {
    "name": 38,
    "variant": 14,
    "iso2": 14,
    "iso3": 5,
    "lower": 5,
    "upper": 5,
    "iso2_lower": 2,
    "none": 14,
    "empty": 3,
}
#: Phone categories whose value is deliberately not a valid number / not a number at all.
JUNK_PHONE_KINDS = frozenset({"short", "long", "text"})
BLANK_KINDS = frozenset({"none", "empty"})

LEAD_SOURCES = (
    "Web",
    "Phone Inquiry",
    "Partner Referral",
    "Purchased List",
    "Other",
    "Trade Show",
    "Webinar",
    "Word of mouth",
    "Advertisement",
    "Employee Referral",
)
BULK_LEAD_SOURCES = ("Purchased List", "Trade Show", "Webinar", "Partner Referral")
TITLES = (
    "CEO",
    "CTO",
    "CFO",
    "Head of Sales",
    "Marketing Manager",
    "Account Executive",
    "Procurement Lead",
    "Software Engineer",
    "Office Manager",
    "VP Operations",
    "Director",
    "Owner",
    "Founder",
    "Consultant",
    "Geschäftsführer",
    "Directeur commercial",
    "Gerente General",
    "部長",
    "Sales Rep.",
    "purchasing",
    "Customer Success Manager",
    "Student",
)
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.000+0000"
_TRUNK_REGIONS = tuple(
    region
    for region, kinds in STEMS.items()
    if kinds["fixed"] and kinds["fixed"][0][2].lstrip("(").startswith("0")
)
_COUNTRY_CUM = tuple(itertools.accumulate(country.weight for country in COUNTRIES))
_REGION_INDEX = {country.iso2: i for i, country in enumerate(COUNTRIES)}
# per country: (names keys, cumulative weights)
_NAME_CHOICES = {
    country.iso2: (
        tuple(key for key, _ in country.name_pools),
        tuple(itertools.accumulate(weight for _, weight in country.name_pools)),
    )
    for country in COUNTRIES
}
_STYLE_NAMES = tuple(name for name, _ in CLEAN_STYLES)
_STYLE_CUM = tuple(itertools.accumulate(weight for _, weight in CLEAN_STYLES))


class RowInfo(NamedTuple):
    """What the generator meant for one row (for tests and demos; not part of the Salesforce record)."""

    country: str
    email_kind: str
    phone_kind: str
    phone_region: str | None
    mobile_kind: str
    mobile_region: str | None
    shared: str | None  # "phone", "email", "both" or None
    burst: int  # index of the bulk-import burst, -1 for a regular user's row


class _Person(NamedTuple):
    country: int
    first: str | None
    last: str
    email: str | None
    phone: Phone | None
    phone_raw: str | None
    address: tuple[str | None, str | None, str | None, str | None]


class _Burst(NamedTuple):
    owner: str
    lead_source: str
    country: int


class _Deck:
    """Deals category names in shuffled decks so each category appears in every deck-sized run of rows."""

    __slots__ = ("_cards", "_hand", "_rng")

    def __init__(self, mix: Mapping[str, int], rng: random.Random) -> None:
        self._cards = [name for name, count in mix.items() for _ in range(count)]
        self._hand: list[str] = []
        self._rng = rng

    def draw(self) -> str:
        if not self._hand:
            self._hand = self._cards.copy()
            self._rng.shuffle(self._hand)
        return self._hand.pop()


def _as_utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _resolve_window(start: datetime | None, end: datetime | None) -> tuple[int, int]:
    """Return ``[first_second, last_second]`` (inclusive) for ``[start, end)``."""
    if start is None and end is None:
        start, end = DEFAULT_START, DEFAULT_END
    elif start is None:
        end = _as_utc(end, "end")  # type: ignore[arg-type]
        start = end - (DEFAULT_END - DEFAULT_START)
    elif end is None:
        start = _as_utc(start, "start")
        end = start + (DEFAULT_END - DEFAULT_START)
    first = math.ceil(_as_utc(start, "start").timestamp())
    last = math.ceil(_as_utc(end, "end").timestamp()) - 1
    if last < first:
        raise ValueError("the window [start, end) must contain at least one whole second")
    return first, last


def _burst_sizes(n_bulk: int, rng: random.Random) -> list[int]:
    sizes: list[int] = []
    left = n_bulk
    while left > 0:
        size = rng.randint(200, 2000)
        if size >= left or left - size < 200:
            size = left
        sizes.append(size)
        left -= size
    return sizes


def _regular_seconds(m: int, first: int, last: int, rng: random.Random) -> Iterator[tuple[int, int]]:
    """``m`` sorted uniform seconds in ``[first, last]`` (sequential order statistics), ~6 % twins."""
    span = last - first + 1
    x = 0.0
    second = first
    for i in range(m):
        if i == 0 or rng.random() >= 0.06:
            x = 1.0 - (1.0 - x) * rng.random() ** (1.0 / (m - i))
            second = min(first + int(x * span), last)
        yield second, -1


def _burst_seconds(index: int, size: int, start: int, duration: int) -> Iterator[tuple[int, int]]:
    for j in range(size):
        yield start + j * duration // size, index


def _timeline(
    n: int, first: int, last: int, bulk_share: float, rng: random.Random
) -> tuple[Iterator[tuple[int, int]], list[int]]:
    n_bulk = min(n, round(n * bulk_share))
    sizes = _burst_sizes(n_bulk, rng)
    span = last - first + 1
    streams: list[Iterator[tuple[int, int]]] = [_regular_seconds(n - n_bulk, first, last, rng)]
    for index, size in enumerate(sizes):
        duration = min(span, max(1, math.ceil(size / rng.uniform(150.0, 600.0))))
        start = rng.randint(first, last - duration + 1)
        streams.append(_burst_seconds(index, size, start, duration))
    return heapq.merge(*streams), sizes


def _pick_cum(rng: random.Random, cum: Sequence[float]) -> int:
    return bisect.bisect_right(cum, rng.random() * cum[-1])


def _fmt(second: int) -> str:
    return time.strftime(_TIME_FORMAT, time.gmtime(second))


class _RowMaker:
    """Builds the rows; holds the random streams, decks, phone book and the recent-people buffer."""

    def __init__(self, seed: int, first: int, last: int, duplicate_share: float, import_user_id: str) -> None:
        self.rng = random.Random(f"demo-rows:{seed}")
        self.first, self.last = first, last
        self.duplicate_share = duplicate_share
        self.import_user_id = import_user_id
        self.phones = PhoneBook(seed)
        self.email_deck = _Deck(EMAIL_MIX, self.rng)
        self.phone_deck = _Deck(PHONE_MIX, self.rng)
        self.mobile_deck = _Deck(MOBILE_MIX, self.rng)
        self.country_deck = _Deck(COUNTRY_MIX, self.rng)
        self.person_country_deck = _Deck({country.iso2: country.weight for country in COUNTRIES}, self.rng)
        self.recent: deque[_Person] = deque(maxlen=512)

    # -- people ----------------------------------------------------------------------------------------------
    def _names(self, country: Country) -> tuple[str, str, str, str]:
        rng = self.rng
        keys, cum = _NAME_CHOICES[country.iso2]
        firsts, lasts = NAME_POOLS[keys[_pick_cum(rng, cum) if len(keys) > 1 else 0]]
        first, first_latin = rng.choice(firsts)
        last, last_latin = rng.choice(lasts)
        return first, first_latin, last, last_latin

    def _address(self, country: Country) -> tuple[str | None, str | None, str | None, str | None]:
        rng = self.rng
        if rng.random() < 0.12:
            return None, None, None, None
        city, state, pattern = rng.choice(country.cities)
        street = rng.choice(country.streets)
        number = str(rng.randint(1, 250))
        if country.iso2 in ("US", "GB", "AU", "FR", "NG", "ZA", "IN", "PH", "MY", "SG", "AE", "TH"):
            line = f"{number} {street}"
        elif country.iso2 == "JP":
            line = street
        else:
            line = f"{street} {number}"
        if rng.random() < 0.05:
            line += rng.choice(("\nSuite 400", "\n2nd Floor", ", Building B", "\nc/o Reception"))
        postal = "".join(rng.choice("0123456789") if ch == "#" else ch for ch in pattern) or None
        return line, city, state or None, postal

    def _mailing_country(self, country: Country) -> tuple[str | None, str | None]:
        rng = self.rng
        kind = self.country_deck.draw()
        value: str | None
        if kind == "name":
            value = country.name
        elif kind == "variant":
            value = rng.choice(country.variants)
        elif kind == "iso2":
            value = country.iso2
        elif kind == "iso3":
            value = country.iso3
        elif kind == "lower":
            value = country.name.lower()
        elif kind == "upper":
            value = country.name.upper()
        elif kind == "iso2_lower":
            value = country.iso2.lower()
        elif kind == "empty":
            value = ""
        else:
            value = None
        code = country.iso2 if rng.random() < (0.35 if value else 0.1) else None
        return value, code

    # -- phones ----------------------------------------------------------------------------------------------
    def _phone(self, kind: str, region: str, number_kind: str) -> tuple[str | None, str | None, Phone | None]:
        """Return (value, region of the number or None, the clean Phone when the value is a clean one)."""
        rng = self.rng
        if kind == "none":
            return None, None, None
        if kind == "empty":
            return rng.choice(("", " ")), None, None
        if kind == "short":
            return rng.choice(SHORT_JUNK), None, None
        if kind == "text":
            return rng.choice(TEXT_JUNK), None, None
        if kind == "vanity":
            return vanity_number(rng), "US", None
        if rng.random() < 0.03:
            region = COUNTRIES[_pick_cum(rng, _COUNTRY_CUM)].iso2
        if kind == "trunk" and region not in _TRUNK_REGIONS:
            region = rng.choice(_TRUNK_REGIONS)
            number_kind = "fixed"
        phone = self.phones.allocate(region, number_kind)  # type: ignore[arg-type]
        clean = format_clean(phone, _STYLE_NAMES[_pick_cum(rng, _STYLE_CUM)])
        if kind == "clean":
            return clean, region, phone
        other = self.phones.allocate(region, "mobile") if kind == "two" else None
        return format_messy(phone, kind, rng, clean, other), region, None

    # -- rows ------------------------------------------------------------------------------------------------
    def row(
        self, seq: int, second: int, burst_index: int, burst: _Burst | None
    ) -> tuple[dict[str, Any], RowInfo]:
        rng = self.rng
        src: _Person | None = None
        shared: str | None = None
        if self.recent and rng.random() < self.duplicate_share:
            src = self.recent[rng.randrange(len(self.recent))]
            roll = rng.random()
            shared = "phone" if roll < 0.45 else "email" if roll < 0.8 else "both"
            if src.phone is None:
                shared = "email"
            elif src.email is None:
                shared = "phone"

        if src is not None and shared == "phone":
            ci = src.country
        elif burst is not None and rng.random() < 0.6:
            ci = burst.country
        else:
            ci = _REGION_INDEX[self.person_country_deck.draw()]
        country = COUNTRIES[ci]
        first, first_latin, last, last_latin = self._names(country)
        if src is not None and shared == "phone":
            last = src.last
            for _ in range(4):
                if first != src.first:
                    break
                first, first_latin, _, _ = self._names(country)
        first_name: str | None = first
        roll = rng.random()
        if roll < 0.04:
            first_name, first_latin = None, ""
        last_name = last
        roll = rng.random()
        if roll < 0.02:
            last_name = last.upper()
        elif roll < 0.03:
            last_name = last + " "
        elif roll < 0.04:
            last_name = last.lower()

        # e-mail
        serial = CONTACT_ID_BASE + seq
        clean_email: str | None = None
        if src is not None and shared in ("email", "both"):
            email_kind = "shared"
            email = src.email.upper() if src.email and rng.random() < 0.2 else src.email
        else:
            email_kind = self.email_deck.draw()
            clean_email = clean_address(rng, first_latin, last_latin, seq)
            if email_kind == "clean":
                email = clean_email
            else:
                display = f"{first_name} {last}" if first_name else last
                email = messy_address(rng, email_kind, clean_email, display)
                clean_email = None

        # phones
        clean_phone: Phone | None = None
        if src is not None and shared in ("phone", "both") and src.phone is not None:
            phone_kind, phone_region = "shared", src.phone.region
            if rng.random() < 0.5 and src.phone_raw:
                phone = src.phone_raw
            else:
                phone = format_clean(src.phone, _STYLE_NAMES[_pick_cum(rng, _STYLE_CUM)])
        else:
            phone_kind = self.phone_deck.draw()
            number_kind = "fixed" if rng.random() < 0.75 else "mobile"
            phone, phone_region, clean_phone = self._phone(phone_kind, country.iso2, number_kind)
        mobile_kind = self.mobile_deck.draw()
        mobile, mobile_region, _ = self._phone(mobile_kind, country.iso2, "mobile")

        if src is not None and shared == "phone":
            street, city, state, postal = src.address
        else:
            street, city, state, postal = self._address(country)
        mailing_country, mailing_code = self._mailing_country(country)

        # audit fields
        if burst is not None:
            created_by = self.import_user_id
            owner = burst.owner
            lead_source: str | None = burst.lead_source
        else:
            created_by = USER_IDS[_pick_cum(rng, _USER_CUM)]
            owner = created_by if rng.random() < 0.85 else USER_IDS[_pick_cum(rng, _USER_CUM)]
            lead_source = rng.choice(LEAD_SOURCES) if rng.random() < 0.8 else None
        modified, modified_by = second, created_by
        if rng.random() < (0.1 if burst is not None else 0.3) and second < self.last:
            modified = rng.randint(second + 1, min(self.last, second + 3 * 86_400))
            modified_by = USER_IDS[_pick_cum(rng, _USER_CUM)]
        modstamp = modified
        if rng.random() < 0.05 and modified < self.last:
            modstamp = rng.randint(modified + 1, min(self.last, modified + 3_600))
        created_text = _fmt(second)

        record: dict[str, Any] = {
            "Id": salesforce_id("003", serial),
            "FirstName": first_name,
            "LastName": last_name,
            "Email": email,
            "Phone": phone,
            "MobilePhone": mobile,
            "MailingStreet": street,
            "MailingCity": city,
            "MailingState": state,
            "MailingPostalCode": postal,
            "MailingCountry": mailing_country,
            "MailingCountryCode": mailing_code,
            "LeadSource": lead_source,
            "Title": rng.choice(TITLES) if rng.random() < 0.7 else None,
            "OwnerId": owner,
            "CreatedDate": created_text,
            "CreatedById": created_by,
            "LastModifiedDate": created_text if modified == second else _fmt(modified),
            "LastModifiedById": modified_by,
            "SystemModstamp": created_text if modstamp == second else _fmt(modstamp),
            "IsDeleted": False,
            "MasterRecordId": None,
        }
        if src is None and (clean_email is not None or clean_phone is not None):
            self.recent.append(
                _Person(ci, first_name, last, clean_email, clean_phone, phone, (street, city, state, postal))
            )
        info = RowInfo(
            country.iso2,
            email_kind,
            phone_kind,
            phone_region,
            mobile_kind,
            mobile_region,
            shared,
            burst_index,
        )
        return record, info


def iter_annotated(
    n: int,
    *,
    seed: int = 42,
    start: datetime | None = None,
    end: datetime | None = None,
    import_user_id: str = IMPORT_USER_ID,
    bulk_share: float = 0.1,
    duplicate_share: float = 0.03,
) -> Iterator[tuple[dict[str, Any], RowInfo]]:
    """Like :func:`generate_contacts` but yields ``(record, RowInfo)``: what each row was meant to be."""
    if n < 0:
        raise ValueError("n must be >= 0")
    if not 0.0 <= bulk_share <= 1.0 or not 0.0 <= duplicate_share <= 1.0:
        raise ValueError("bulk_share and duplicate_share must be within [0, 1]")
    first, last = _resolve_window(start, end)
    time_rng = random.Random(f"demo-time:{seed}")
    merged, sizes = _timeline(n, first, last, bulk_share, time_rng)
    bursts = [
        _Burst(
            USER_IDS[_pick_cum(time_rng, _USER_CUM)],
            time_rng.choice(BULK_LEAD_SOURCES),
            _pick_cum(time_rng, _COUNTRY_CUM),
        )
        for _ in sizes
    ]
    log.debug("generating %s contacts (seed %s, %s bulk bursts)", n, seed, len(sizes))
    maker = _RowMaker(seed, first, last, duplicate_share, import_user_id)
    for seq, (second, burst_index) in enumerate(merged, start=1):
        yield maker.row(seq, second, burst_index, bursts[burst_index] if burst_index >= 0 else None)


def generate_contacts(
    n: int,
    *,
    seed: int = 42,
    start: datetime | None = None,
    end: datetime | None = None,
    import_user_id: str = IMPORT_USER_ID,
    bulk_share: float = 0.1,
    duplicate_share: float = 0.03,
) -> Iterator[dict[str, Any]]:
    """Yield ``n`` deterministic, realistically messy Salesforce Contacts in ``(CreatedDate, Id)`` order.

    :param n: number of contacts.
    :param seed: same seed and arguments give identical output.
    :param start: inclusive start of the CreatedDate window (tz-aware); default 2026-10-25T00:00Z.
    :param end: exclusive end of the window (tz-aware); default 2026-11-01T00:00Z.
    :param import_user_id: ``CreatedById`` of the bulk-import bursts.
    :param bulk_share: share of rows created in bulk-import bursts.
    :param duplicate_share: share of rows that reuse an earlier person's phone and/or e-mail.
    """
    for record, _ in iter_annotated(
        n,
        seed=seed,
        start=start,
        end=end,
        import_user_id=import_user_id,
        bulk_share=bulk_share,
        duplicate_share=duplicate_share,
    ):
        yield record


def write_jsonl(path: str | Path, contacts: Iterable[Mapping[str, Any]]) -> int:
    """Write contacts as UTF-8 JSON lines; return how many were written."""
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="\n") as out:
        for contact in contacts:
            out.write(json.dumps(contact, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
            count += 1
    return count


# -- respond.io contacts that already exist ------------------------------------------------------------------
_INVISIBLE = dict.fromkeys(map(ord, "\u00a0\u200b\u200e\u200f\ufeff"), " ")
_COUNTRY_LOOKUP: dict[str, str] = {
    spelling.strip().lower(): country.iso2
    for country in reversed(COUNTRIES)  # earlier countries win on a clash
    for spelling in (country.iso2, country.iso3, country.name, *country.variants)
}
_PLACEHOLDER_EMAILS = frozenset(value.lower() for value in PLACEHOLDERS)


def _region_hint(contact: Mapping[str, Any]) -> str | None:
    code = contact.get("MailingCountryCode")
    if isinstance(code, str) and len(code.strip()) == 2:
        return code.strip().upper()
    country = contact.get("MailingCountry")
    if isinstance(country, str):
        return _COUNTRY_LOOKUP.get(country.strip().lower())
    return None


def _e164(raw: Any, region: str | None) -> tuple[str, str] | None:
    import phonenumbers

    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.translate(_INVISIBLE).strip()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    region_code = phonenumbers.region_code_for_number(number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), region_code


def _plain_email(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    text = raw.translate(_INVISIBLE).strip().lower()
    if text.startswith("mailto:"):
        text = text[len("mailto:") :].strip()
    if "<" in text and text.endswith(">"):
        text = text[text.rindex("<") + 1 : -1]
    text = text.strip("\"' ")
    if text in _PLACEHOLDER_EMAILS or text.count("@") != 1 or " " in text or ".." in text or "," in text:
        return None
    local, _, domain = text.partition("@")
    if not local or "." not in domain or domain.endswith(".") or ";" in text:
        return None
    return text


def generate_respond_io_existing(
    contacts: Iterable[Mapping[str, Any]], share: float = 0.05, seed: int = 42
) -> list[dict[str, Any]]:
    """Pick about ``share`` of the contacts and return them as contacts that already exist in respond.io.

    Each item has the respond.io contact shape ``firstName, lastName, email, phone (E.164), countryCode, tags,
    custom_fields`` and matches its Salesforce person by the normalised phone (E.164 via libphonenumber, using
    MailingCountryCode / MailingCountry as the default region) and/or the trimmed, lower-cased e-mail.
    Contacts without a usable phone or e-mail are skipped; no two items share a phone or an e-mail.

    :param contacts: Salesforce contact records, e.g. from :func:`generate_contacts`.
    :param share: probability that a contact exists in respond.io.
    :param seed: seed of the selection (deterministic).
    """
    rng = random.Random(f"demo-respond-io:{seed}")
    out: list[dict[str, Any]] = []
    used_phones: set[str] = set()
    used_emails: set[str] = set()
    for contact in contacts:
        if rng.random() >= share:
            continue
        region = _region_hint(contact)
        parsed = _e164(contact.get("MobilePhone"), region) or _e164(contact.get("Phone"), region)
        email = _plain_email(contact.get("Email"))
        roll = rng.random()
        phone: str | None = parsed[0] if parsed else None
        if phone and email:
            if roll < 0.5:
                email = None
            elif roll >= 0.85:
                phone = None
        if not phone and not email:
            continue
        if (phone and phone in used_phones) or (email and email in used_emails):
            continue
        if phone:
            used_phones.add(phone)
        if email:
            used_emails.add(email)
        first = (contact.get("FirstName") or "").strip()
        last = (contact.get("LastName") or "").strip() or None
        if not first:
            first, last = last or "Unknown", None
        if rng.random() < 0.25:
            last = None  # a chat profile often carries one name only
        if phone:
            tags = rng.choice(
                (["WhatsApp"], ["WhatsApp"], ["WhatsApp", "VIP"], ["Viber"], ["Telegram"], ["SMS"])
            )
        else:
            tags = rng.choice((["Email"], ["Website Chat"], ["Facebook Messenger"]))
        out.append(
            {
                "firstName": first,
                "lastName": last,
                "email": email,
                "phone": phone,
                "countryCode": parsed[1] if parsed else region,
                "tags": tags,
                "custom_fields": [],
            }
        )
    return out


# -- CLI -----------------------------------------------------------------------------------------------------
def _parse_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sandbox.demo_data --count N --seed S --out f.jsonl``: write contacts, print one line."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.demo_data", description=__doc__.split("\n", 1)[0]
    )
    parser.add_argument("--count", type=int, required=True, help="number of contacts")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True, help="JSONL output file")
    parser.add_argument("--start", type=_parse_datetime, default=None, help="ISO datetime, UTC if no offset")
    parser.add_argument("--end", type=_parse_datetime, default=None, help="ISO datetime, UTC if no offset")
    parser.add_argument("--bulk-share", type=float, default=0.1)
    parser.add_argument("--duplicate-share", type=float, default=0.03)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    written = write_jsonl(
        args.out,
        generate_contacts(
            args.count,
            seed=args.seed,
            start=args.start,
            end=args.end,
            bulk_share=args.bulk_share,
            duplicate_share=args.duplicate_share,
        ),
    )
    elapsed = time.perf_counter() - began
    print(f"wrote {written} contacts to {args.out} (seed {args.seed}) in {elapsed:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
